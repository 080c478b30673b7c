// A recorder job's status (recordings, live streams; reference §2, §5.4): the values a job row holds and the
// moves between them, which the store's conditional status update obeys. The job's other rules (stop
// reasons, error types, bounds) are domain/recordingJob.ts.
import { Type, type Static } from 'typebox';

export const JobStatus = Type.Enum(['starting', 'running', 'stopping', 'post_processing', 'completed', 'failed']);
export type JobStatus = Static<typeof JobStatus>;
export const JOB_STATUSES: JobStatus[] = [...JobStatus.enum];
export const ACTIVE_STATUSES: JobStatus[] = ['starting', 'running', 'stopping', 'post_processing'];

const moves: Record<JobStatus, JobStatus[]> = {
  starting: ['running', 'stopping', 'failed'],
  running: ['stopping', 'failed'],
  stopping: ['post_processing', 'completed', 'failed'],
  post_processing: ['completed', 'failed'],
  completed: [],
  failed: [],
};

export function canMove(from: JobStatus, to: JobStatus): boolean {
  return moves[from].includes(to);
}
