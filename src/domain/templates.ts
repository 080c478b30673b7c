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
