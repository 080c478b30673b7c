// Request schemas of /v2/templates (reference §6.1–6.5, bounds from §7) and the request types derived from
// them (Static), so a request's shape is written once. Shapes and ranges are checked here, by Fastify; the
// cross-field rules are domain/templateValidation.ts. The domain builds template parts from these (its input
// types are derived from the model, model/templates.ts, and the route calls check the two agree).
import { Type, type Static } from 'typebox';
import { pageQuery } from './pagination.js';
import { Id } from './schemas.js';
import { HlsDestination, PublishKind, UploadConfig } from '../model/templates.js';

const opt = Type.Optional;
const Bool = Type.Boolean();
const int = (minimum: number, maximum: number, description?: string) =>
  Type.Integer({ minimum, maximum, ...(description ? { description } : {}) });
/** Request objects: unknown fields are a 400 naming the field. */
const strict = <P extends Parameters<typeof Type.Object>[0]>(props: P, description?: string) =>
  Type.Object(props, { additionalProperties: false, ...(description ? { description } : {}) });
/** Free-form objects the reference leaves open (simulcast layers, room state, transcription summary). */
const FreeObject = Type.Record(Type.String(), Type.Unknown());

const KEY = '^[a-zA-Z0-9_-]{1,100}$';
const TemplateName = Type.String({ minLength: 1, maxLength: 255, pattern: '^[a-zA-Z0-9 ._:-]+$', description: 'a-z A-Z 0-9 space - . _ :' });
const RoleName = Type.String({ pattern: KEY });
const DestName = Type.String({ pattern: KEY });
const Seconds = (min: number, max: number, dflt: string) => int(min, max, `seconds; default ${dflt}`);

const VideoParams = strict({
  bitRate: opt(int(30, 2000, 'kbps')),
  codec: opt(Type.Enum(['vp8', 'vp9', 'h264'])),
  frameRate: opt(int(1, 30)),
  width: opt(int(50, 1920)),
  height: opt(int(50, 1080)),
});

export const RoleBody = strict({
  name: opt(RoleName),
  hidden: opt(Type.Boolean({ description: 'read-only (shown on the recorder role); ignored on input' })),
  publishParams: opt(
    strict({
      allowed: opt(Type.Array(PublishKind, { uniqueItems: true })),
      audio: opt(strict({ bitRate: opt(int(16, 128, 'kbps')), codec: opt(Type.Enum(['opus'])) })),
      video: opt(VideoParams),
      screen: opt(VideoParams),
      simulcast: opt(FreeObject),
    }),
  ),
  subscribeParams: opt(
    strict({
      subscribeToRoles: opt(Type.Array(RoleName, { uniqueItems: true, maxItems: 100, description: 'roles of this template' })),
      maxSubsBitRate: opt(int(0, 100000, 'kbps')),
      subscribeDegradation: opt(
        strict({
          packetLossThreshold: opt(int(0, 100)),
          degradeGracePeriodSeconds: opt(int(0, 3600)),
          recoverGracePeriodSeconds: opt(int(0, 3600)),
        }),
      ),
    }),
  ),
  permissions: opt(
    strict({
      endRoom: opt(Bool),
      removeOthers: opt(Bool),
      mute: opt(Bool),
      unmute: opt(Bool),
      changeRole: opt(Bool),
      sendRoomState: opt(Bool),
      pollRead: opt(Bool),
      pollWrite: opt(Bool),
      browserRecording: opt(Bool),
      rtmpStreaming: opt(Bool),
      hlsStreaming: opt(Bool),
    }),
  ),
  priority: opt(int(1, 5)),
  maxPeerCount: opt(int(-1, 100000, '0 = unlimited, -1 = none may join')),
});

// Capture resolutions (§7): width 500–1920, height 480–1920; the "only one side above 1080" rule is a domain check.
const CaptureResolution = { width: opt(int(500, 1920)), height: opt(int(480, 1920)) };
const Thumbnails = strict({
  enabled: opt(Bool),
  width: opt(int(16, 1920)),
  height: opt(int(16, 1920)),
  offsets: opt(Type.Array(Type.Integer({ minimum: 0 }), { maxItems: 20, description: 'seconds into the recording' })),
  fps: opt(Type.Number({ exclusiveMinimum: 0, maximum: 30 })),
});

const RecordingConfigBody = strict({
  name: Type.String({ minLength: 1, maxLength: 100 }),
  role: Type.String({ pattern: KEY, description: 'role the recorder joins with; must exist in the template' }),
  maxDuration: opt(Seconds(1, 43200, '14400 (4 h)')),
  presignDuration: opt(Seconds(1, 604800, '86400')),
  thumbnails: opt(Thumbnails),
  compositeRecording: opt(
    strict({
      browserComposite: opt(
        strict({
          enabled: opt(Type.Boolean({ description: 'default true' })),
          autoStart: opt(Type.Boolean({ description: 'start on first peer join; disables HLS and RTMP streaming for the template' })),
          autoStopTimeout: opt(Seconds(0, 43200, '300')),
          ...CaptureResolution,
        }),
      ),
      customComposite: opt(strict({ enabled: opt(Bool) })),
    }),
  ),
  trackRecording: opt(strict({ enabled: opt(Bool) })),
  streamRecording: opt(strict({ enabled: opt(Bool), ...CaptureResolution })),
});
export const RecordingsBody = Type.Array(RecordingConfigBody, { minItems: 1, maxItems: 1, description: 'exactly one RecordingConfig' });

// HLS layer sides: schema keeps them within 144–1920; the min/max-side, even and descending rules are domain checks.
const Layer = strict({
  width: int(144, 1920),
  height: int(144, 1920),
  videoBitrate: int(100, 10000, 'kbps'),
  audioBitrate: int(16, 320, 'kbps'),
});
const Layers = Type.Array(Layer, { minItems: 1, maxItems: 8 });
const HlsDestinationBody = strict({
  name: opt(DestName),
  maxDuration: opt(Seconds(1, 43200, '14400 (4 h)')),
  layers: opt(Type.Array(Layer, { minItems: 1, maxItems: 8, description: 'descending resolution; default 720p/480p/360p' })),
  playlistType: opt(HlsDestination.properties.playlistType),
  numPlaylistSegments: opt(int(3, 150, 'live playlists only (2 s segments); default 5')),
  videoFrameRate: opt(int(1, 30, 'default 30')),
  enableMetadataInsertion: opt(Bool),
  enableStaticUrl: opt(Bool),
  autoStopTimeout: opt(Seconds(0, 43200, '300')),
  recording: opt(
    strict({
      hlsVod: opt(Bool),
      singleFilePerLayer: opt(Bool),
      enableZipUpload: opt(Bool),
      layers: opt(Layers),
      thumbnails: opt(Thumbnails),
      presignDuration: opt(Seconds(1, 604800, 'none')),
    }),
  ),
});
const RtmpDestinationBody = strict({
  name: opt(DestName),
  ...CaptureResolution,
  maxDuration: opt(Seconds(1, 43200, '14400 (4 h)')),
  rtmpUrls: opt(Type.Array(Type.String({ pattern: '^rtmps?://', maxLength: 2048 }), { maxItems: 3 })),
  recordingEnabled: opt(Bool),
  autoStopTimeout: opt(Seconds(0, 43200, '300')),
});
const TranscriptionBody = strict({
  name: opt(DestName),
  role: Type.String({ pattern: KEY }),
  modes: opt(Type.Array(Type.Enum(['recorded', 'live', 'caption']), { uniqueItems: true })),
  outputModes: opt(Type.Array(Type.String({ maxLength: 32 }), { maxItems: 10 })),
  customVocabulary: opt(Type.Array(Type.String({ maxLength: 100 }), { maxItems: 1000 })),
  summary: opt(FreeObject),
  translation: opt(FreeObject),
});
const destMap = <T extends Parameters<typeof Type.Array>[0]>(item: T) =>
  Type.Record(Type.String({ pattern: KEY }), item, { additionalProperties: false, maxProperties: 10 });
export const DestinationsBody = strict({
  hlsDestinations: opt(destMap(HlsDestinationBody)),
  rtmpDestinations: opt(destMap(RtmpDestinationBody)),
  transcriptions: opt(destMap(TranscriptionBody)),
});

const Upload = strict({
  type: UploadConfig.properties.type,
  location: Type.String({ minLength: 1, maxLength: 255, description: 'bucket (Azure: container)' }),
  prefix: opt(Type.String({ maxLength: 1024 })),
  options: opt(
    strict({
      region: opt(Type.String({ maxLength: 64 })),
      endpoint: opt(Type.String({ format: 'uri', pattern: '^https?://', maxLength: 2048, description: 'S3-compatible stores' })),
    }),
  ),
  credentials: opt(
    strict({
      key: opt(Type.String({ maxLength: 1024 })),
      secretKey: opt(Type.String({ maxLength: 4096, description: 'stored, shown masked; sending the masked value keeps it' })),
    }),
  ),
});
export const SettingsBody = strict({
  region: opt(Type.Enum(['in', 'us', 'eu', 'auto'])),
  recording: opt(
    strict({
      enabled: opt(Type.Boolean({ description: 'deprecated (SFU recording)' })),
      upload: opt(Type.Union([Upload, Type.Null()], { description: 'null removes the storage configuration' })),
    }),
  ),
  roomState: opt(FreeObject),
});

const templateFields = {
  roles: opt(Type.Record(Type.String({ pattern: KEY }), RoleBody, { additionalProperties: false, maxProperties: 50 })),
  settings: opt(SettingsBody),
  destinations: opt(DestinationsBody),
  recordings: opt(RecordingsBody),
};
export const CreateTemplate = strict({ name: TemplateName, ...templateFields });
export const UpdateTemplate = strict({ name: opt(TemplateName), ...templateFields });

export const TemplateParams = Type.Object({ id: Id });
export const RoleParams = Type.Object({ id: Id, role_name: RoleName });
export const ListQuery = Type.Object({ ...pageQuery });

// The routes' bodies are typed from these schemas by the type provider; the named ones the routes pass on:
export type SettingsRequest = Static<typeof SettingsBody>;
/** A create or update body: the sections sent replace the stored ones. */
export type TemplateRequest = Static<typeof UpdateTemplate>;
