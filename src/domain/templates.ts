// A request applied to a template (reference §6.1–6.5): the parts a client sent, filled from the stored parts
// or the defaults for what it omitted; the settings merge that keeps a stored secret; and what responses show
// (secrets masked, false booleans left out). The model is model/templates.ts, the defaults
// templateDefaults.ts, the checks templateValidation.ts; the request schemas are api/templateRequests.ts.
import {
  DEFAULT_PRESIGN_DURATION,
  RECORDER_ROLE,
  type HlsDestination,
  type RecordingConfig,
  type Role,
  type RtmpDestination,
  type TemplateDestinations,
  type TemplateSettings,
  type Transcription,
  type UploadConfig,
} from '../model/templates.js';
import { SECRET_MASK, maskSecret } from '../model/secrets.js';
import { apiRoleDefaults, defaultHlsDestination, DEFAULT_AUTO_STOP_TIMEOUT, DEFAULT_MAX_DURATION, recorderRoleFor } from './templateDefaults.js';

// ---- what a request may send -------------------------------------------------------------------
// Derived from the model; the API's request types (Static of its schemas) are checked against these where
// the routes pass them in.

/** A part of the model as a client sends it: every field optional, down to the leaves; arrays are sent whole. */
export type Sent<T> = T extends readonly unknown[] ? T : T extends object ? { [K in keyof T]?: Sent<T[K]> } : T;

/** Role as sent by a client: every part optional, filled from the current role or the defaults. */
export type RoleInput = Sent<Role>;
export type RecordingConfigInput = Sent<RecordingConfig> & Pick<RecordingConfig, 'name' | 'role'>;
export type HlsDestinationInput = Sent<HlsDestination>;
export type RtmpDestinationInput = Sent<RtmpDestination>;
export type TranscriptionInput = Sent<Transcription> & Pick<Transcription, 'role'>;
export interface DestinationsInput {
  hlsDestinations?: Record<string, HlsDestinationInput>;
  rtmpDestinations?: Record<string, RtmpDestinationInput>;
  transcriptions?: Record<string, TranscriptionInput>;
}
type RecordingSettings = NonNullable<TemplateSettings['recording']>;
/** Settings as sent: `recording.upload: null` removes the storage configuration. */
export type SettingsInput = Omit<TemplateSettings, 'recording'> & {
  recording?: Omit<RecordingSettings, 'upload'> & { upload?: UploadConfig | null };
};

// ---- building the template's parts -------------------------------------------------------------

/** Overlay a client's role onto `base` (the stored role, or the defaults for a new one). */
export function buildRole(name: string, input: RoleInput, base: Role = apiRoleDefaults(name)): Role {
  const pp = input.publishParams;
  const publishParams: Role['publishParams'] = pp
    ? {
        allowed: pp.allowed ?? base.publishParams.allowed,
        ...(pp.audio || base.publishParams.audio
          ? { audio: { bitRate: 32, codec: 'opus', ...base.publishParams.audio, ...pp.audio } }
          : {}),
        ...(pp.video || base.publishParams.video
          ? { video: { bitRate: 1500, codec: 'vp8', frameRate: 30, width: 1280, height: 720, ...base.publishParams.video, ...pp.video } }
          : {}),
        ...(pp.screen || base.publishParams.screen
          ? { screen: { bitRate: 2000, codec: 'vp8', frameRate: 15, width: 1920, height: 1080, ...base.publishParams.screen, ...pp.screen } }
          : {}),
        ...(pp.simulcast || base.publishParams.simulcast ? { simulcast: pp.simulcast ?? base.publishParams.simulcast } : {}),
      }
    : base.publishParams;
  return {
    name,
    publishParams,
    subscribeParams: { ...base.subscribeParams, ...input.subscribeParams } as Role['subscribeParams'],
    permissions: { ...base.permissions, ...input.permissions },
    priority: input.priority ?? base.priority,
    maxPeerCount: input.maxPeerCount ?? base.maxPeerCount,
  };
}

/** Roles sent as a whole map. The hidden recorder role is added when missing, so the default recording config keeps working. */
export function buildRoles(input: Record<string, RoleInput>): Record<string, Role> {
  const roles: Record<string, Role> = {};
  for (const [name, r] of Object.entries(input)) roles[name] = buildRole(name, r);
  if (!roles[RECORDER_ROLE]) roles[RECORDER_ROLE] = recorderRoleFor(roles);
  return roles;
}

export function buildRecordingConfig(input: RecordingConfigInput): RecordingConfig {
  const bc = input.compositeRecording?.browserComposite ?? {};
  const out: RecordingConfig = {
    name: input.name,
    role: input.role,
    maxDuration: input.maxDuration ?? DEFAULT_MAX_DURATION,
    presignDuration: input.presignDuration ?? DEFAULT_PRESIGN_DURATION,
    compositeRecording: {
      // Room-composite is the recording this server makes: configured means on unless switched off.
      browserComposite: {
        enabled: bc.enabled ?? true,
        autoStart: bc.autoStart ?? false,
        autoStopTimeout: bc.autoStopTimeout ?? DEFAULT_AUTO_STOP_TIMEOUT,
        width: bc.width ?? 1280,
        height: bc.height ?? 720,
      },
      ...(input.compositeRecording?.customComposite ? { customComposite: { ...input.compositeRecording.customComposite } } : {}),
    },
    trackRecording: { ...input.trackRecording },
    streamRecording: { ...input.streamRecording },
  };
  if (input.thumbnails) out.thumbnails = { ...input.thumbnails };
  return out;
}

export function buildHlsDestination(key: string, input: HlsDestinationInput): HlsDestination {
  const d = defaultHlsDestination(key);
  return {
    name: key,
    maxDuration: input.maxDuration ?? DEFAULT_MAX_DURATION,
    layers: (input.layers ?? d.layers).map((l) => ({ ...l })),
    playlistType: input.playlistType ?? d.playlistType,
    // Only meaningful for live playlists (event playlists keep every segment); kept so GET echoes it.
    numPlaylistSegments: input.numPlaylistSegments ?? d.numPlaylistSegments,
    videoFrameRate: input.videoFrameRate ?? d.videoFrameRate,
    enableMetadataInsertion: input.enableMetadataInsertion ?? d.enableMetadataInsertion,
    enableStaticUrl: input.enableStaticUrl ?? d.enableStaticUrl,
    autoStopTimeout: input.autoStopTimeout ?? d.autoStopTimeout,
    recording: { ...d.recording, ...input.recording },
  };
}

export function buildRtmpDestination(key: string, input: RtmpDestinationInput): RtmpDestination {
  return {
    name: key,
    width: input.width ?? 1280,
    height: input.height ?? 720,
    maxDuration: input.maxDuration ?? DEFAULT_MAX_DURATION,
    rtmpUrls: [...(input.rtmpUrls ?? [])],
    recordingEnabled: input.recordingEnabled ?? false,
    autoStopTimeout: input.autoStopTimeout ?? DEFAULT_AUTO_STOP_TIMEOUT,
  };
}

export function buildDestinations(input: DestinationsInput, current?: TemplateDestinations): TemplateDestinations {
  const map = <I, O>(m: Record<string, I>, f: (k: string, v: I) => O) =>
    Object.fromEntries(Object.entries(m).map(([k, v]) => [k, f(k, v)]));
  return {
    hlsDestinations: input.hlsDestinations ? map(input.hlsDestinations, buildHlsDestination) : (current?.hlsDestinations ?? {}),
    rtmpDestinations: input.rtmpDestinations ? map(input.rtmpDestinations, buildRtmpDestination) : (current?.rtmpDestinations ?? {}),
    transcriptions: input.transcriptions
      ? map(input.transcriptions, (k, v) => ({ ...v, name: k }))
      : (current?.transcriptions ?? {}),
  };
}

/**
 * Settings update: top-level keys replace, `recording` merges, `recording.upload` replaces (null removes it).
 * A secretKey equal to the masked form of the stored one keeps the stored secret, so a client can send
 * back what GET returned; any other masked-looking value is refused rather than stored as the secret.
 */
export function mergeSettings(current: TemplateSettings, input: SettingsInput, path: string): { settings: TemplateSettings; issues: string[] } {
  const issues: string[] = [];
  const settings: TemplateSettings = { ...current, ...input } as TemplateSettings;
  if (input.recording !== undefined) {
    const { upload, ...rest } = input.recording;
    const recording: RecordingSettings & Record<string, unknown> = { ...current.recording, ...rest };
    if (upload === null) delete recording.upload;
    else if (upload !== undefined) {
      const next: UploadConfig = { ...upload, ...(upload.options ? { options: { ...upload.options } } : {}) };
      const sent = upload.credentials?.secretKey;
      if (sent !== undefined && sent.startsWith(SECRET_MASK)) {
        const stored = current.recording?.upload?.credentials?.secretKey;
        if (stored !== undefined && maskSecret(stored) === sent) next.credentials = { ...upload.credentials, secretKey: stored };
        else issues.push(`${path}/recording/upload/credentials/secretKey is a masked value that does not match the stored secret: send the full secret`);
      } else if (upload.credentials) next.credentials = { ...upload.credentials };
      recording.upload = next;
    }
    settings.recording = recording;
  }
  return { settings, issues };
}

// ---- what responses show -----------------------------------------------------------------------

/** GET echoes recording configs with false booleans left out (`trackRecording: {}`), as the reference shows. */
export function omitFalse<T>(value: T): T {
  if (Array.isArray(value)) return value.map((v) => omitFalse(v)) as T;
  if (value && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) if (v !== false && v !== undefined) out[k] = omitFalse(v);
    return out as T;
  }
  return value;
}

/** Settings as a response shows them: the upload secret masked. */
export function presentSettings(s: TemplateSettings): TemplateSettings {
  const secret = s.recording?.upload?.credentials?.secretKey;
  if (secret === undefined) return s;
  const upload = s.recording!.upload!;
  return {
    ...s,
    recording: { ...s.recording, upload: { ...upload, credentials: { ...upload.credentials, secretKey: maskSecret(secret) } } },
  };
}
