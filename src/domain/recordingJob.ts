// The recording job's rules (reference §2, §5.4, §7): stop reasons, error types, which statuses are active or
// stoppable, resolution bounds. The status values and the moves between them are model/jobStatus.ts (the store
// obeys them too). No I/O here: the service applies these to rows and events.
import { ACTIVE_STATUSES } from '../model/jobStatus.js';

/**
 * The reference's four, and ours: RECORDER_UNAVAILABLE (no recorder of this machine became free in time),
 * DISK_FULL (the data disk filled; the job kept what it captured as a partial asset).
 */
export type ErrorType = 'INTERNAL_ERROR' | 'MAX_RETRIES_REACHED' | 'UPLOAD_ERROR' | 'BEAM_STOPPED' | 'RECORDER_UNAVAILABLE' | 'DISK_FULL';

/** The composite MP4's bitrate cap (video VBV max + AAC): what a start must find room for on the data disk. */
export const MP4_VIDEO_MAX_KBPS = 4000;
export const AUDIO_KBPS = 128;

export const STOP_REASONS = {
  clientRequest: 'client request',
  maxDuration: 'max duration reached',
  roomEnded: 'room ended',
  lastPeerLeft: 'last peer left',
  failure: (t: ErrorType) => `failure: ${t}`,
} as const;

export function isActive(status: string): boolean {
  return (ACTIVE_STATUSES as string[]).includes(status);
}

/**
 * Why a start still reads `starting` while it waits for a free recorder (the API object's `reason`): its place
 * among the waiting jobs, this machine's capacity, and when it gives up. `deadline` null: this server runs no
 * recorder, so it does not time the wait out.
 */
/** `workers`: this server's recorders, or 'fleet' when the fleet's workers take the jobs (REDIS_URL). */
export function waitingReason(position: number, of: number, workers: number | 'fleet', deadline: { at: string; seconds: number } | null): string {
  const waiting = `queued: position ${position} of ${of}, waiting for a free recorder`;
  if (workers !== 'fleet' && (workers <= 0 || !deadline)) return `${waiting} (this server runs none: RECORDER_WORKERS=${workers})`;
  const capacity = workers === 'fleet' ? "of the fleet's workers" : `(RECORDER_WORKERS=${workers})`;
  return `${waiting} ${capacity}; fails as RECORDER_UNAVAILABLE if none is free by ${deadline!.at} (RECORDER_START_TIMEOUT_SECONDS=${deadline!.seconds})`;
}

/** A job may be stopped while starting or running; stopping twice is harmless (already on its way). */
export function isStoppable(status: string): boolean {
  return status === 'starting' || status === 'running';
}

export interface Resolution {
  width: number;
  height: number;
}

export const DEFAULT_RESOLUTION: Resolution = { width: 1280, height: 720 };

/**
 * Bounds of the reference (§7): width 500–1920, height 480–1920, and if one side is over 1080 the other is at
 * most 1080 (1920×1080 landscape or 1080×1920 portrait at most). Odd sizes are refused because H.264 4:2:0
 * needs even dimensions. Returns the problems, empty when fine.
 */
export function resolutionProblems(r: Resolution, field = 'body/resolution'): string[] {
  const problems: string[] = [];
  if (r.width < 500 || r.width > 1920) problems.push(`${field}/width must be between 500 and 1920`);
  if (r.height < 480 || r.height > 1920) problems.push(`${field}/height must be between 480 and 1920`);
  if ((r.width > 1080 && r.height > 1080) || (r.height > 1080 && r.width > 1080)) {
    problems.push(`${field} may have only one side over 1080 (max 1920x1080 or 1080x1920)`);
  }
  if (r.width % 2 !== 0 || r.height % 2 !== 0) problems.push(`${field} width and height must be even`);
  return problems;
}

/** Recorder start: the page must report "joined" within RECORDER_JOIN_TIMEOUT_SECONDS (default 10 s, as the
 * reference's composition rule), and is tried this many times. */
export const JOIN_ATTEMPTS = 3;
