// Template defaults (reference §6, §7): the default template (roles, HLS destination, recording config), the
// role a new role starts from, and the hidden recorder role's subscriptions. The shapes are model/templates.ts.
import {
  DEFAULT_PRESIGN_DURATION,
  RECORDER_ROLE,
  type HlsDestination,
  type HlsLayer,
  type RecordingConfig,
  type Role,
  type TemplateParts,
} from '../model/templates.js';

export const DEFAULT_MAX_DURATION = 4 * 3600; // §7: "max duration reached" after 4 h unless configured
export const DEFAULT_AUTO_STOP_TIMEOUT = 300; // §7: 5 min after the last peer leaves

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

/** A role added through the API: the reference's permission defaults (recording/streaming allowed). */
export function apiRoleDefaults(name: string): Role {
  const base = makeRole(name);
  return { ...base, permissions: { ...base.permissions, browserRecording: true, rtmpStreaming: true, hlsStreaming: true } };
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

export const DEFAULT_LAYERS: HlsLayer[] = [
  { width: 1280, height: 720, videoBitrate: 2500, audioBitrate: 128 },
  { width: 854, height: 480, videoBitrate: 1200, audioBitrate: 96 },
  { width: 640, height: 360, videoBitrate: 700, audioBitrate: 64 },
];

export function defaultHlsDestination(name = 'default'): HlsDestination {
  return {
    name,
    maxDuration: DEFAULT_MAX_DURATION,
    layers: DEFAULT_LAYERS.map((l) => ({ ...l })),
    playlistType: 'live',
    numPlaylistSegments: 5,
    videoFrameRate: 30,
    enableMetadataInsertion: true,
    enableStaticUrl: false,
    autoStopTimeout: DEFAULT_AUTO_STOP_TIMEOUT,
    recording: { hlsVod: false, singleFilePerLayer: false, enableZipUpload: false },
  };
}

export function defaultRecordingConfig(): RecordingConfig {
  return {
    name: 'default',
    role: RECORDER_ROLE,
    maxDuration: DEFAULT_MAX_DURATION,
    presignDuration: DEFAULT_PRESIGN_DURATION,
    compositeRecording: {
      browserComposite: { enabled: true, autoStart: false, autoStopTimeout: DEFAULT_AUTO_STOP_TIMEOUT, width: 1280, height: 720 },
    },
    trackRecording: {},
    streamRecording: {},
  };
}

/** The default template's parts; also what a new template starts from for the sections its request omits. */
export function defaultTemplateBody(): TemplateParts {
  return {
    roles: defaultRoles(),
    settings: { region: 'auto' },
    destinations: { hlsDestinations: { default: defaultHlsDestination() }, rtmpDestinations: {}, transcriptions: {} },
    recordings: [defaultRecordingConfig()],
  };
}
