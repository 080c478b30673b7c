// How a recorder job closes, whichever resource it is (recording, live stream): the stop reason it ends with,
// and the moves to stopping (if it was not already) then completed, or failed with its error type.
import type { JobRows, JobTableName, RowOf } from '../store/jobRows.js';
import { redactOptional } from '../redact.js';
import { STOP_REASONS, type ErrorType } from './recordingJob.js';

export interface JobEnding {
  errorType?: ErrorType;
  errorMessage?: string;
  stoppedAt: Date;
}

/** Closes the job; `after` is null when another move won (the job was already closed). */
export async function closeJob<T extends JobTableName>(
  rows: JobRows<T>,
  before: RowOf<T>,
  ending: JobEnding,
): Promise<{ after: RowOf<T> | null; failed: boolean; reason: string }> {
  const failed = !!ending.errorType;
  const reason = ending.errorType ? STOP_REASONS.failure(ending.errorType) : (before.stop_reason ?? STOP_REASONS.clientRequest);
  const set = {
    stopped_at: ending.stoppedAt.toISOString(),
    stop_reason: reason,
    error_type: ending.errorType ?? null,
    error_message: redactOptional(ending.errorMessage) ?? null,
  } as Partial<RowOf<T>>;
  if (before.status === 'starting' || before.status === 'running') await rows.move(before.id, 'stopping', set);
  const after = await rows.move(before.id, failed ? 'failed' : 'completed', set);
  return { after, failed, reason };
}
