// Templates: roles, recording config, HLS destinations, storage (reference §6). Field names are the reference's.

export type PublishKind = 'audio' | 'video' | 'screen' | 'simulcast';

export interface Role {
  name: string;
  publishParams: {
    allowed: PublishKind[];
    audio?: { bitRate: number; codec: string };
    video?: { bitRate: number; codec: string; frameRate: number; width: number; height: number };
    screen?: { bitRate: number; codec: string; frameRate: number; width: number; height: number };
    simulcast?: Record<string, unknown>;
  };
  subscribeParams: {
    subscribeToRoles: string[];
    maxSubsBitRate: number;
    subscribeDegradation?: Record<string, unknown>;
  };
  permissions: {
    endRoom: boolean;
    removeOthers: boolean;
    mute: boolean;
    unmute: boolean;
    changeRole: boolean;
    sendRoomState: boolean;
    pollRead: boolean;
    pollWrite: boolean;
    browserRecording: boolean;
    rtmpStreaming: boolean;
    hlsStreaming: boolean;
  };
  priority: number;
  maxPeerCount: number;
}

export interface HlsLayer {
  width: number;
  height: number;
  videoBitrate: number; // kbps
  audioBitrate: number; // kbps
}

export interface HlsDestination {
  name: string;
  maxDuration: number;
  layers: HlsLayer[];
  playlistType: 'live' | 'event';
  numPlaylistSegments: number;
  videoFrameRate: number;
  enableMetadataInsertion: boolean;
  enableStaticUrl: boolean;
  autoStopTimeout: number;
  recording: {
    hlsVod: boolean;
    singleFilePerLayer: boolean;
    enableZipUpload: boolean;
    layers?: HlsLayer[];
    presignDuration?: number;
  };
}

export interface RecordingConfig {
  name: string;
  role: string;
  maxDuration: number;
  presignDuration?: number;
  thumbnails?: { enabled?: boolean; width?: number; height?: number; offsets?: number[]; fps?: number };
  compositeRecording: {
    browserComposite: { enabled?: boolean; autoStart: boolean; autoStopTimeout: number; width: number; height: number };
    customComposite?: { enabled?: boolean };
  };
  trackRecording?: { enabled?: boolean };
  streamRecording?: { enabled?: boolean; width?: number; height?: number };
}

export interface UploadConfig {
  type: 's3' | 'gs' | 'oss' | 'azure';
  location: string;
  prefix?: string;
  options?: { region?: string; endpoint?: string };
  credentials?: { key?: string; secretKey?: string };
}

export interface TemplateSettings {
  region?: string;
  recording?: { upload?: UploadConfig };
  [key: string]: unknown;
}

export interface TemplateDestinations {
  hlsDestinations: Record<string, HlsDestination>;
  rtmpDestinations: Record<string, unknown>;
  transcriptions: Record<string, unknown>;
}

export interface Template {
  id: string;
  name: string;
  customer_id: string;
  roles: Record<string, Role>;
  settings: TemplateSettings;
  destinations: TemplateDestinations;
  recordings: RecordingConfig[];
  created_at: string;
  updated_at: string;
}

export const DEFAULT_TEMPLATE_NAME = 'default';
/** The hidden role the recorder joins with: it publishes nothing and never counts as a participant. */
export const RECORDER_ROLE = '__internal_recorder';

const allPermissions = (on: boolean): Role['permissions'] => ({
  endRoom: on,
  removeOthers: on,
  mute: on,
  unmute: on,
  changeRole: on,
  sendRoomState: on,
  pollRead: true,
  pollWrite: on,
  browserRecording: on,
  rtmpStreaming: on,
  hlsStreaming: on,
});

export function makeRole(name: string, over: Partial<Role> = {}): Role {
  return {
    name,
    publishParams: {
      allowed: ['audio', 'video', 'screen'],
      audio: { bitRate: 32, codec: 'opus' },
      video: { bitRate: 1500, codec: 'vp8', frameRate: 30, width: 1280, height: 720 },
      screen: { bitRate: 2000, codec: 'vp8', frameRate: 15, width: 1920, height: 1080 },
    },
    subscribeParams: { subscribeToRoles: [], maxSubsBitRate: 5200 },
    permissions: allPermissions(false),
    priority: 1,
    maxPeerCount: 0,
    ...over,
  };
}

export function defaultRoles(): Record<string, Role> {
  const stage = ['host', 'guest'];
  return {
    host: makeRole('host', {
      subscribeParams: { subscribeToRoles: stage, maxSubsBitRate: 5200 },
      permissions: allPermissions(true),
      priority: 1,
    }),
    guest: makeRole('guest', {
      subscribeParams: { subscribeToRoles: stage, maxSubsBitRate: 5200 },
      permissions: { ...allPermissions(false), browserRecording: false, rtmpStreaming: false, hlsStreaming: false },
      priority: 2,
    }),
    // HLS viewers watch the live stream instead of joining WebRTC.
    'hls-viewer': makeRole('hls-viewer', {
      publishParams: { allowed: [] },
      subscribeParams: { subscribeToRoles: [], maxSubsBitRate: 0 },
      permissions: { ...allPermissions(false), browserRecording: false, rtmpStreaming: false, hlsStreaming: false },
      priority: 3,
    }),
    [RECORDER_ROLE]: makeRole(RECORDER_ROLE, {
      publishParams: { allowed: [] },
      subscribeParams: { subscribeToRoles: stage, maxSubsBitRate: 10000 },
      permissions: { ...allPermissions(false), browserRecording: false, rtmpStreaming: false, hlsStreaming: false },
      priority: 5,
    }),
  };
}

export const DEFAULT_LAYERS: HlsLayer[] = [
  { width: 1280, height: 720, videoBitrate: 2500, audioBitrate: 128 },
  { width: 854, height: 480, videoBitrate: 1200, audioBitrate: 96 },
  { width: 640, height: 360, videoBitrate: 700, audioBitrate: 64 },
];

export function defaultHlsDestination(name = 'default'): HlsDestination {
  return {
    name,
    maxDuration: 4 * 3600,
    layers: DEFAULT_LAYERS.map((l) => ({ ...l })),
    playlistType: 'live',
    numPlaylistSegments: 5,
    videoFrameRate: 30,
    enableMetadataInsertion: true,
    enableStaticUrl: false,
    autoStopTimeout: 300,
    recording: { hlsVod: false, singleFilePerLayer: false, enableZipUpload: false },
  };
}

export function defaultRecordingConfig(): RecordingConfig {
  return {
    name: 'default',
    role: RECORDER_ROLE,
    maxDuration: 4 * 3600,
    presignDuration: 24 * 3600,
    compositeRecording: {
      browserComposite: { enabled: true, autoStart: false, autoStopTimeout: 300, width: 1280, height: 720 },
    },
    trackRecording: {},
    streamRecording: {},
  };
}

export function defaultTemplateBody(): Pick<Template, 'roles' | 'settings' | 'destinations' | 'recordings'> {
  return {
    roles: defaultRoles(),
    settings: { region: 'auto' },
    destinations: { hlsDestinations: { default: defaultHlsDestination() }, rtmpDestinations: {}, transcriptions: {} },
    recordings: [defaultRecordingConfig()],
  };
}

/** A peer of this role is a hidden, non-counting participant (the recorder). */
export function isHiddenRole(role: string): boolean {
  return role === RECORDER_ROLE;
}

// ---------------------------------------------------------------------------------------------
// Template rules used by the Templates API (reference §6.1–6.5, §7): defaults for omitted fields,
// the cross-field checks a JSON schema cannot express, and what responses may show.
// Shape and range checks live in the API schemas; everything here returns "<field path> <problem>"
// strings so a 400 names the field.

/** Role as sent by a client: every part optional, filled from the current role or the defaults. */
export interface RoleInput {
  name?: string;
  publishParams?: {
    allowed?: PublishKind[];
    audio?: { bitRate?: number; codec?: string };
    video?: { bitRate?: number; codec?: string; frameRate?: number; width?: number; height?: number };
    screen?: { bitRate?: number; codec?: string; frameRate?: number; width?: number; height?: number };
    simulcast?: Record<string, unknown>;
  };
  subscribeParams?: {
    subscribeToRoles?: string[];
    maxSubsBitRate?: number;
    subscribeDegradation?: Record<string, unknown>;
  };
  permissions?: Partial<Role['permissions']>;
  priority?: number;
  maxPeerCount?: number;
}

export interface RecordingConfigInput {
  name: string;
  role: string;
  maxDuration?: number;
  presignDuration?: number;
  thumbnails?: RecordingConfig['thumbnails'];
  compositeRecording?: {
    browserComposite?: Partial<RecordingConfig['compositeRecording']['browserComposite']>;
    customComposite?: { enabled?: boolean };
  };
  trackRecording?: { enabled?: boolean };
  streamRecording?: { enabled?: boolean; width?: number; height?: number };
}

export interface HlsDestinationInput {
  name?: string;
  maxDuration?: number;
  layers?: HlsLayer[];
  playlistType?: 'live' | 'event';
  numPlaylistSegments?: number;
  videoFrameRate?: number;
  enableMetadataInsertion?: boolean;
  enableStaticUrl?: boolean;
  autoStopTimeout?: number;
  recording?: Partial<HlsDestination['recording']> & { thumbnails?: RecordingConfig['thumbnails'] };
}

export interface RtmpDestination {
  name: string;
  width: number;
  height: number;
  maxDuration: number;
  rtmpUrls: string[];
  recordingEnabled: boolean;
  autoStopTimeout: number;
}
export type RtmpDestinationInput = Partial<RtmpDestination>;

export interface TranscriptionInput {
  name?: string;
  role: string;
  [key: string]: unknown;
}

export interface DestinationsInput {
  hlsDestinations?: Record<string, HlsDestinationInput>;
  rtmpDestinations?: Record<string, RtmpDestinationInput>;
  transcriptions?: Record<string, TranscriptionInput>;
}

export interface UploadInput {
  type: UploadConfig['type'];
  location: string;
  prefix?: string;
  options?: { region?: string; endpoint?: string };
  credentials?: { key?: string; secretKey?: string };
}

export interface SettingsInput {
  region?: string;
  recording?: { enabled?: boolean; upload?: UploadInput | null };
  [key: string]: unknown;
}

export const DEFAULT_MAX_DURATION = 4 * 3600; // §7: "max duration reached" after 4 h unless configured
export const DEFAULT_AUTO_STOP_TIMEOUT = 300; // §7: 5 min after the last peer leaves
export const DEFAULT_PRESIGN_DURATION = 24 * 3600; // §7: webhook presigned URLs live 24 h

/** A role added through the API: the reference's permission defaults (recording/streaming allowed). */
export function apiRoleDefaults(name: string): Role {
  const base = makeRole(name);
  return { ...base, permissions: { ...base.permissions, browserRecording: true, rtmpStreaming: true, hlsStreaming: true } };
}

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

/** The recorder role for a template whose client-sent roles lack one: it subscribes to every role that publishes. */
export function recorderRoleFor(roles: Record<string, Role>): Role {
  const publishers = Object.values(roles)
    .filter((r) => r.name !== RECORDER_ROLE && r.publishParams.allowed.length > 0)
    .map((r) => r.name);
  return { ...defaultRoles()[RECORDER_ROLE], subscribeParams: { subscribeToRoles: publishers, maxSubsBitRate: 10000 } };
}

/**
 * A role created after the template: the hidden recorder role subscribes to it too when it publishes, so its
 * video is in recordings and HLS (the recorder's subscriptions were computed when the template was made).
 */
export function withRoleSubscribedByRecorder(roles: Record<string, Role>, name: string): Record<string, Role> {
  const rec = roles[RECORDER_ROLE];
  const added = roles[name];
  if (!rec || !added || name === RECORDER_ROLE || added.publishParams.allowed.length === 0) return roles;
  const subs = rec.subscribeParams.subscribeToRoles;
  if (subs.includes(name)) return roles;
  return { ...roles, [RECORDER_ROLE]: { ...rec, subscribeParams: { ...rec.subscribeParams, subscribeToRoles: [...subs, name] } } };
}

/**
 * Seconds the presigned URLs of a job's webhook (beam/hls.recording.success) live: the HLS destination's
 * recording.presignDuration for a live stream, else the recording config's, else 24 h (reference §6.2, §6.4).
 */
export function webhookPresignSeconds(t: Template | null | undefined, hlsDestination?: string): number {
  const hls = hlsDestination === undefined ? undefined : t?.destinations.hlsDestinations?.[hlsDestination]?.recording.presignDuration;
  return hls ?? t?.recordings[0]?.presignDuration ?? DEFAULT_PRESIGN_DURATION;
}

/** Roles sent as a whole map. The hidden recorder role is added when missing, so the default recording config keeps working. */
export function buildRoles(input: Record<string, RoleInput>): Record<string, Role> {
  const roles: Record<string, Role> = {};
  for (const [name, r] of Object.entries(input)) roles[name] = buildRole(name, r);
  if (!roles[RECORDER_ROLE]) roles[RECORDER_ROLE] = recorderRoleFor(roles);
  return roles;
}

export function roleIssues(name: string, input: RoleInput, path: string): string[] {
  return input.name !== undefined && input.name !== name ? [`${path}/name must equal the role name in the path or key (${name})`] : [];
}

/** Every role a role subscribes to must be a role of the template. */
export function subscribeIssues(role: Role, roleNames: Set<string>, path: string): string[] {
  return role.subscribeParams.subscribeToRoles.flatMap((r, i) =>
    roleNames.has(r) ? [] : [`${path}/subscribeParams/subscribeToRoles/${i} role ${r} does not exist in the template`],
  );
}

/**
 * Capture resolution bounds (§7): width 500–1920 and height 480–1920 are schema bounds; here the rule that
 * only one side may exceed 1080 (1920×1080 landscape, 1080×1920 portrait). Both sides must be even too:
 * the encoder writes yuv420p, which cannot hold odd dimensions.
 */
export function resolutionIssues(width: number | undefined, height: number | undefined, path: string): string[] {
  const out: string[] = [];
  if (width !== undefined && width % 2 !== 0) out.push(`${path}/width must be even`);
  if (height !== undefined && height % 2 !== 0) out.push(`${path}/height must be even`);
  if (width !== undefined && height !== undefined && width > 1080 && height > 1080) {
    out.push(`${path}/height must be <= 1080 when width is above 1080 (resolution ${width}x${height} not supported)`);
  }
  return out;
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

/** `path` names the config itself, e.g. "body/0" or "body/recordings/0". */
export function recordingIssues(rec: RecordingConfig, roleNames: Set<string>, path: string): string[] {
  const bc = rec.compositeRecording.browserComposite;
  return [
    ...(roleNames.has(rec.role) ? [] : [`${path}/role role ${rec.role} does not exist in the template`]),
    ...resolutionIssues(bc.width, bc.height, `${path}/compositeRecording/browserComposite`),
    ...resolutionIssues(rec.streamRecording?.width, rec.streamRecording?.height, `${path}/streamRecording`),
  ];
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

/** HLS ladder rules (§6.4): even sides, min side 144–1080, max side 192–1920, resolution strictly descending. */
export function layerIssues(layers: HlsLayer[], path: string): string[] {
  const out: string[] = [];
  layers.forEach((l, i) => {
    const p = `${path}/${i}`;
    if (l.width % 2 !== 0) out.push(`${p}/width must be even`);
    if (l.height % 2 !== 0) out.push(`${p}/height must be even`);
    const lo = Math.min(l.width, l.height);
    const hi = Math.max(l.width, l.height);
    if (lo < 144 || lo > 1080) out.push(`${p} shorter side ${lo} must be within 144–1080`);
    if (hi < 192 || hi > 1920) out.push(`${p} longer side ${hi} must be within 192–1920`);
    const prev = layers[i - 1];
    if (prev && l.width * l.height >= prev.width * prev.height) {
      out.push(`${p} layers must be in descending resolution: ${l.width}x${l.height} is not below ${prev.width}x${prev.height}`);
    }
  });
  return out;
}

export function hlsIssues(key: string, input: HlsDestinationInput, d: HlsDestination, path: string): string[] {
  const out: string[] = [];
  if (input.name !== undefined && input.name !== key) out.push(`${path}/name must equal the destination key (${key})`);
  out.push(...layerIssues(d.layers, `${path}/layers`));
  const sizes = new Set(d.layers.map((l) => `${l.width}x${l.height}`));
  d.recording.layers?.forEach((l, i) => {
    if (!sizes.has(`${l.width}x${l.height}`)) out.push(`${path}/recording/layers/${i} ${l.width}x${l.height} is not one of the stream layers`);
  });
  return out;
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

export function rtmpIssues(key: string, input: RtmpDestinationInput, d: RtmpDestination, path: string): string[] {
  return [
    ...(input.name !== undefined && input.name !== key ? [`${path}/name must equal the destination key (${key})`] : []),
    ...resolutionIssues(d.width, d.height, path),
  ];
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

/** Checks of destinations against their input (names, ladders, resolutions) and the template's roles. */
export function destinationIssues(input: DestinationsInput, d: TemplateDestinations, roleNames: Set<string>, path: string): string[] {
  const out: string[] = [];
  for (const [k, v] of Object.entries(input.hlsDestinations ?? {})) out.push(...hlsIssues(k, v, d.hlsDestinations[k], `${path}/hlsDestinations/${k}`));
  for (const [k, v] of Object.entries(input.rtmpDestinations ?? {})) {
    out.push(...rtmpIssues(k, v, d.rtmpDestinations[k] as RtmpDestination, `${path}/rtmpDestinations/${k}`));
  }
  for (const [k, v] of Object.entries(input.transcriptions ?? {})) {
    if (v.name !== undefined && v.name !== k) out.push(`${path}/transcriptions/${k}/name must equal the destination key (${k})`);
  }
  out.push(...transcriptionRoleIssues(d, roleNames, `${path}/transcriptions`));
  return out;
}

export function transcriptionRoleIssues(d: TemplateDestinations, roleNames: Set<string>, path: string): string[] {
  return Object.entries(d.transcriptions).flatMap(([k, v]) => {
    const role = (v as { role?: string }).role;
    return role !== undefined && !roleNames.has(role) ? [`${path}/${k}/role role ${role} does not exist in the template`] : [];
  });
}

/**
 * Seed: "enabling [composite auto-start on room join] will disable HLS and RTMP streaming for that template".
 * The destinations stay stored (switching auto-start off brings them back); the live-stream and
 * external-stream start paths must check this and refuse, and GET …/destinations reports it.
 */
export function streamingDisabledByAutoStart(t: Pick<Template, 'recordings'>): boolean {
  return t.recordings.some((r) => {
    const bc = r.compositeRecording?.browserComposite;
    return !!bc && bc.enabled !== false && bc.autoStart === true;
  });
}
export const hlsDisabledByAutoStart = streamingDisabledByAutoStart;
export const rtmpDisabledByAutoStart = streamingDisabledByAutoStart;

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

// Storage secrets are kept but never shown: responses carry "****" plus at most the last 4 characters.
export const SECRET_MASK = '****';

export function maskSecret(secret: string): string {
  // Short secrets show nothing: 4 visible characters of an 8-character secret is half of it.
  return secret.length >= 12 ? SECRET_MASK + secret.slice(-4) : SECRET_MASK;
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
    const recording: NonNullable<TemplateSettings['recording']> & Record<string, unknown> = { ...current.recording, ...rest };
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
