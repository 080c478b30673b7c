// Template checks (reference §6.1–6.5, §7): the cross-field rules a JSON schema cannot express, for a template
// built from a request (role references, HLS ladders, capture resolutions, destination names) and for a
// request against a template (deleting a role in use, streaming on an auto-start template). Shape and range
// checks are the API's request schemas. Each returns "<field path> <problem>" strings, so a 400 names the field.
import type { HlsDestination, HlsLayer, RecordingConfig, Role, RtmpDestination, Template, TemplateDestinations } from '../model/templates.js';
import type { DestinationsInput, HlsDestinationInput, RoleInput, RtmpDestinationInput } from './templates.js';

export function roleIssues(name: string, input: RoleInput, path: string): string[] {
  return input.name !== undefined && input.name !== name ? [`${path}/name must equal the role name in the path or key (${name})`] : [];
}

/** Every role a role subscribes to must be a role of the template. */
export function subscribeIssues(role: Role, roleNames: Set<string>, path: string): string[] {
  return role.subscribeParams.subscribeToRoles.flatMap((r, i) =>
    roleNames.has(r) ? [] : [`${path}/subscribeParams/subscribeToRoles/${i} role ${r} does not exist in the template`],
  );
}

/** A role the recording config or a transcription uses cannot be deleted (change that first). */
export function roleInUseIssues(t: Pick<Template, 'recordings' | 'destinations'>, name: string): string[] {
  return [
    ...t.recordings.flatMap((r, i) => (r.role === name ? [`recordings/${i}/role uses role ${name}: change the recording config first`] : [])),
    ...Object.entries(t.destinations.transcriptions).flatMap(([k, v]) =>
      (v as { role?: string }).role === name ? [`destinations/transcriptions/${k}/role uses role ${name}: change that destination first`] : [],
    ),
  ];
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

/** `path` names the config itself, e.g. "body/0" or "body/recordings/0". */
export function recordingIssues(rec: RecordingConfig, roleNames: Set<string>, path: string): string[] {
  const bc = rec.compositeRecording.browserComposite;
  return [
    ...(roleNames.has(rec.role) ? [] : [`${path}/role role ${rec.role} does not exist in the template`]),
    ...resolutionIssues(bc.width, bc.height, `${path}/compositeRecording/browserComposite`),
    ...resolutionIssues(rec.streamRecording?.width, rec.streamRecording?.height, `${path}/streamRecording`),
  ];
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

export function rtmpIssues(key: string, input: RtmpDestinationInput, d: RtmpDestination, path: string): string[] {
  return [
    ...(input.name !== undefined && input.name !== key ? [`${path}/name must equal the destination key (${key})`] : []),
    ...resolutionIssues(d.width, d.height, path),
  ];
}

/** Checks of destinations against their input (names, ladders, resolutions) and the template's roles. */
export function destinationIssues(input: DestinationsInput, d: TemplateDestinations, roleNames: Set<string>, path: string): string[] {
  const out: string[] = [];
  for (const [k, v] of Object.entries(input.hlsDestinations ?? {})) out.push(...hlsIssues(k, v, d.hlsDestinations[k], `${path}/hlsDestinations/${k}`));
  for (const [k, v] of Object.entries(input.rtmpDestinations ?? {})) {
    out.push(...rtmpIssues(k, v, d.rtmpDestinations[k], `${path}/rtmpDestinations/${k}`));
  }
  for (const [k, v] of Object.entries(input.transcriptions ?? {})) {
    if (v.name !== undefined && v.name !== k) out.push(`${path}/transcriptions/${k}/name must equal the destination key (${k})`);
  }
  out.push(...transcriptionRoleIssues(d, roleNames, `${path}/transcriptions`));
  return out;
}

export function transcriptionRoleIssues(d: TemplateDestinations, roleNames: Set<string>, path: string): string[] {
  return Object.entries(d.transcriptions).flatMap(([k, v]) => {
    // stored JSON is not checked when read: a transcription's role may be missing
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
