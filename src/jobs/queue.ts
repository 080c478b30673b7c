// The job queue recorder workers take work from. The job's own state (a recording, a live stream) lives in
// its table; the queue only says "this job needs a worker". In-process on one machine: a row per job in the
// database, claimed with a conditional update, so a restart (or, later, another machine) can pick it up.
import type { Db } from '../store/db.js';
import { now, objectId, rfc3339 } from '../clock.js';
import { claimNextJob, completeQueuedJob, heartbeatJob, insertQueuedJob, requeueStaleJobs } from '../store/jobQueue.js';

export type JobKind = 'recording' | 'live-stream';

export interface QueuedJob {
  id: string;
  kind: JobKind;
  jobId: string;
  attempts: number;
}

export interface JobQueue {
  enqueue(kind: JobKind, jobId: string): Promise<void>;
  /** Claims the oldest queued job of the given kinds for this worker, or null. */
  claim(workerId: string, kinds: JobKind[]): Promise<QueuedJob | null>;
  heartbeat(queueId: string, workerId: string): Promise<boolean>;
  complete(queueId: string): Promise<void>;
  /** Puts jobs whose worker stopped heartbeating back in the queue. */
  requeueStale(olderThanMs: number): Promise<number>;
  /** Wakes workers waiting in-process. */
  onEnqueue(listener: () => void): () => void;
}

export class DbJobQueue implements JobQueue {
  private readonly listeners = new Set<() => void>();

  constructor(private readonly db: Db) {}

  async enqueue(kind: JobKind, jobId: string): Promise<void> {
    await insertQueuedJob(this.db, { id: objectId(), kind, jobId, at: rfc3339() });
    for (const l of this.listeners) l();
  }

  async claim(workerId: string, kinds: JobKind[]): Promise<QueuedJob | null> {
    const claimed = await claimNextJob(this.db, workerId, kinds);
    return claimed ? { id: claimed.id, kind: claimed.kind as JobKind, jobId: claimed.job_id, attempts: claimed.attempts } : null;
  }

  async heartbeat(queueId: string, workerId: string): Promise<boolean> {
    return heartbeatJob(this.db, queueId, workerId, rfc3339());
  }

  async complete(queueId: string): Promise<void> {
    await completeQueuedJob(this.db, queueId, rfc3339());
  }

  async requeueStale(olderThanMs: number): Promise<number> {
    const cutoff = new Date(now().getTime() - olderThanMs).toISOString();
    const n = await requeueStaleJobs(this.db, cutoff, rfc3339());
    if (n > 0) for (const l of this.listeners) l();
    return n;
  }

  onEnqueue(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
}
