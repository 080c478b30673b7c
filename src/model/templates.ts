// The template model (reference §6): roles, recording config, HLS/RTMP destinations, transcriptions and storage
// settings as a template holds them. Each shape is a TypeBox schema and its type is derived from it (Static),
// so a field is written once. This folder is below domain and store and imports no other part of src: request
// shapes and their bounds are the API's (api/templateRequests.ts); defaults and rules are the domain's
// (domain/templateDefaults.ts, templateValidation.ts, templates.ts).
import { Type, type Static } from 'typebox';

const opt = Type.Optional;
const Str = Type.String();
const Num = Type.Number();
const Bool = Type.Boolean();
/** Objects the reference leaves open (simulcast layers, subscribe degradation, room state). */
const FreeObject = Type.Record(Type.String(), Type.Unknown());

export const DEFAULT_TEMPLATE_NAME = 'default';
/** The hidden role the recorder joins with: it publishes nothing and never counts as a participant. */
export const RECORDER_ROLE = '__internal_recorder';

/** A peer of this role is a hidden, non-counting participant (the recorder). */
export function isHiddenRole(role: string): boolean {
  return role === RECORDER_ROLE;
}

// ---- roles -------------------------------------------------------------------------------------

export const PublishKind = Type.Enum(['audio', 'video', 'screen', 'simulcast']);
export type PublishKind = Static<typeof PublishKind>;

const AudioParams = Type.Object({ bitRate: Num, codec: Str });
const VideoParams = Type.Object({ bitRate: Num, codec: Str, frameRate: Num, width: Num, height: Num });

export const Role = Type.Object({
  name: Str,
  publishParams: Type.Object({
    allowed: Type.Array(PublishKind),
    audio: opt(AudioParams),
    video: opt(VideoParams),
    screen: opt(VideoParams),
    simulcast: opt(FreeObject),
  }),
  subscribeParams: Type.Object({
    subscribeToRoles: Type.Array(Str),
    maxSubsBitRate: Num,
    subscribeDegradation: opt(FreeObject),
  }),
  permissions: Type.Object({
    endRoom: Bool,
    removeOthers: Bool,
    mute: Bool,
    unmute: Bool,
    changeRole: Bool,
    sendRoomState: Bool,
    pollRead: Bool,
    pollWrite: Bool,
    browserRecording: Bool,
    rtmpStreaming: Bool,
    hlsStreaming: Bool,
  }),
  priority: Num,
  maxPeerCount: Num,
});
export type Role = Static<typeof Role>;

// ---- recording config --------------------------------------------------------------------------

const Thumbnails = Type.Object({
  enabled: opt(Bool),
  width: opt(Num),
  height: opt(Num),
  offsets: opt(Type.Array(Num)),
  fps: opt(Num),
});

export const RecordingConfig = Type.Object({
  name: Str,
  role: Str,
  maxDuration: Num,
  presignDuration: opt(Num),
  thumbnails: opt(Thumbnails),
  compositeRecording: Type.Object({
    browserComposite: Type.Object({ enabled: opt(Bool), autoStart: Bool, autoStopTimeout: Num, width: Num, height: Num }),
    customComposite: opt(Type.Object({ enabled: opt(Bool) })),
  }),
  trackRecording: opt(Type.Object({ enabled: opt(Bool) })),
  streamRecording: opt(Type.Object({ enabled: opt(Bool), width: opt(Num), height: opt(Num) })),
});
export type RecordingConfig = Static<typeof RecordingConfig>;

// ---- destinations ------------------------------------------------------------------------------

export const HlsLayer = Type.Object({
  width: Num,
  height: Num,
  videoBitrate: Type.Number({ description: 'kbps' }),
  audioBitrate: Type.Number({ description: 'kbps' }),
});
export type HlsLayer = Static<typeof HlsLayer>;

export const HlsDestination = Type.Object({
  name: Str,
  maxDuration: Num,
  layers: Type.Array(HlsLayer),
  playlistType: Type.Enum(['live', 'event']),
  numPlaylistSegments: Num,
  videoFrameRate: Num,
  enableMetadataInsertion: Bool,
  enableStaticUrl: Bool,
  autoStopTimeout: Num,
  recording: Type.Object({
    hlsVod: Bool,
    singleFilePerLayer: Bool,
    enableZipUpload: Bool,
    layers: opt(Type.Array(HlsLayer)),
    thumbnails: opt(Thumbnails),
    presignDuration: opt(Num),
  }),
});
export type HlsDestination = Static<typeof HlsDestination>;

export const RtmpDestination = Type.Object({
  name: Str,
  width: Num,
  height: Num,
  maxDuration: Num,
  rtmpUrls: Type.Array(Str),
  recordingEnabled: Bool,
  autoStopTimeout: Num,
});
export type RtmpDestination = Static<typeof RtmpDestination>;

/** Kept as sent (modes, summary, translation…); the role must be one of the template's. */
export const Transcription = Type.Object({ name: Str, role: Str });
export type Transcription = Static<typeof Transcription>;

export const TemplateDestinations = Type.Object({
  hlsDestinations: Type.Record(Str, HlsDestination),
  rtmpDestinations: Type.Record(Str, RtmpDestination),
  transcriptions: Type.Record(Str, Transcription),
});
export type TemplateDestinations = Static<typeof TemplateDestinations>;

// ---- settings ----------------------------------------------------------------------------------

/** A customer's store for the template's assets; the secret is stored and shown masked. */
export const UploadConfig = Type.Object({
  type: Type.Enum(['s3', 'gs', 'oss', 'azure']),
  location: Str,
  prefix: opt(Str),
  options: opt(Type.Object({ region: opt(Str), endpoint: opt(Str) })),
  credentials: opt(Type.Object({ key: opt(Str), secretKey: opt(Str) })),
});
export type UploadConfig = Static<typeof UploadConfig>;

export const TemplateSettings = Type.Object({
  region: opt(Str),
  recording: opt(Type.Object({ enabled: opt(Type.Boolean({ description: 'deprecated (SFU recording)' })), upload: opt(UploadConfig) })),
  roomState: opt(FreeObject),
});
export type TemplateSettings = Static<typeof TemplateSettings>;

// ---- the template ------------------------------------------------------------------------------

export const Template = Type.Object({
  id: Str,
  name: Str,
  customer_id: Str,
  roles: Type.Record(Str, Role),
  settings: TemplateSettings,
  destinations: TemplateDestinations,
  recordings: Type.Array(RecordingConfig),
  created_at: Str,
  updated_at: Str,
});
export type Template = Static<typeof Template>;

/** What a template is made of, without its identity: the defaults, a create, an update. */
export type TemplateParts = Pick<Template, 'roles' | 'settings' | 'destinations' | 'recordings'>;

/** §7: a job's webhook presigned URLs live 24 h unless the template says otherwise. */
export const DEFAULT_PRESIGN_DURATION = 24 * 3600;

/**
 * Seconds the presigned URLs of a job's webhook (beam/hls.recording.success) live: the HLS destination's
 * recording.presignDuration for a live stream, else the recording config's, else 24 h (reference §6.2, §6.4).
 */
export function webhookPresignSeconds(t: Template | null | undefined, hlsDestination?: string): number {
  const hls = hlsDestination === undefined ? undefined : t?.destinations.hlsDestinations?.[hlsDestination]?.recording.presignDuration;
  return hls ?? t?.recordings[0]?.presignDuration ?? DEFAULT_PRESIGN_DURATION;
}
