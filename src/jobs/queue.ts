// The job queue recorder workers take work from. The job's own state (a recording, a live stream) lives in
// its table; the queue only says "this job needs a worker". In-process on one machine: a row per job in the
// database, claimed with a conditional update, so a restart (or, later, another machine) can pick it up.
import type { Db } from '../store/db.js';
import { now, objectId, rfc3339 } from '../clock.js';

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
    const at = rfc3339();
    await this.db
      .insertInto('job_queue')
      .values({ id: objectId(), kind, job_id: jobId, state: 'queued', claimed_by: null, heartbeat_at: null, attempts: 0, created_at: at, updated_at: at })
      .execute();
    for (const l of this.listeners) l();
  }

  async claim(workerId: string, kinds: JobKind[]): Promise<QueuedJob | null> {
    for (let tries = 0; tries < 5; tries++) {
      const next = await this.db
        .selectFrom('job_queue')
        .select(['id', 'kind', 'job_id', 'attempts'])
        .where('state', '=', 'queued')
        .where('kind', 'in', kinds)
        .orderBy('created_at', 'asc')
        .orderBy('id', 'asc')
        .limit(1)
        .executeTakeFirst();
      if (!next) return null;
      const at = rfc3339();
      const res = await this.db
        .updateTable('job_queue')
        .set({ state: 'claimed', claimed_by: workerId, heartbeat_at: at, updated_at: at, attempts: next.attempts + 1 })
        .where('id', '=', next.id)
        .where('state', '=', 'queued')
        .executeTakeFirst();
      if (Number(res.numUpdatedRows) === 1) {
        return { id: next.id, kind: next.kind as JobKind, jobId: next.job_id, attempts: next.attempts + 1 };
      }
      // another worker won this row; try the next one
    }
    return null;
  }

  async heartbeat(queueId: string, workerId: string): Promise<boolean> {
    const at = rfc3339();
    const res = await this.db
      .updateTable('job_queue')
      .set({ heartbeat_at: at, updated_at: at })
      .where('id', '=', queueId)
      .where('claimed_by', '=', workerId)
      .where('state', '=', 'claimed')
      .executeTakeFirst();
    return Number(res.numUpdatedRows) === 1;
  }

  async complete(queueId: string): Promise<void> {
    await this.db.updateTable('job_queue').set({ state: 'done', updated_at: rfc3339() }).where('id', '=', queueId).execute();
  }

  async requeueStale(olderThanMs: number): Promise<number> {
    const cutoff = new Date(now().getTime() - olderThanMs).toISOString();
    const res = await this.db
      .updateTable('job_queue')
      .set({ state: 'queued', claimed_by: null, updated_at: rfc3339() })
      .where('state', '=', 'claimed')
      .where('heartbeat_at', '<', cutoff)
      .executeTakeFirst();
    const n = Number(res.numUpdatedRows);
    if (n > 0) for (const l of this.listeners) l();
    return n;
  }

  onEnqueue(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
}
