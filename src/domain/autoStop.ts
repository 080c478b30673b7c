// The stop rules every recorder job follows without an API call (reference §7), shared by the recording and
// live-stream supervisors: `maxDuration` after it started, `autoStopTimeout` after the room became empty.
import type { Db } from '../store/db.js';
import { roomEmptySince } from '../store/presence.js';
import { STOP_REASONS } from './recordingJob.js';

export interface AutoStoppableJob {
  room_id: string;
  status: string;
  created_at: string;
  started_at: string | null;
  /** seconds */
  max_duration: number;
  /** seconds */
  auto_stop_timeout: number;
}

/** The stop reason that applies to the job at `nowMs`, or null when it should keep going. */
export async function autoStopReason(db: Db, job: AutoStoppableJob, nowMs: number): Promise<string | null> {
  if (job.status === 'running' && job.started_at && Date.parse(job.started_at) + job.max_duration * 1000 <= nowMs) {
    return STOP_REASONS.maxDuration;
  }
  const since = await roomEmptySince(db, job.room_id);
  if (since === null) return null;
  // empty since the last visible peer left, or since the job was created when that was earlier
  const emptySince = Math.max(Date.parse(job.created_at), since);
  return emptySince + job.auto_stop_timeout * 1000 <= nowMs ? STOP_REASONS.lastPeerLeft : null;
}
