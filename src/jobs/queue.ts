// The job queue recorder workers take work from. The job's own state (a recording, a live stream) lives in
// its table; the queue only says "this job needs a worker". In-process on one machine: a row per job in the
// database, claimed with a conditional update, so a restart can pick it up. A fleet (REDIS_URL) dispatches
// through BullMQ instead, with the same rows as the truth (bullQueue.ts).
import type { Db } from '../store/db.js';
import { now, objectId, rfc3339 } from '../clock.js';
import { claimNextJob, completeQueuedJob, heartbeatJob, insertQueuedJob, releaseClaim, requeueStaleJobs } from '../store/jobQueue.js';

export type JobKind = 'recording' | 'live-stream';

export interface QueuedJob {
  id: string;
  kind: JobKind;
  jobId: string;
  attempts: number;
}

/** What a recorder machine says of itself every few seconds (`roomcast status`, a fleet's capacity). */
export interface MachineReport {
  id: string;
  host: string;
  pid: number;
  /** RECORDER_WORKERS */
  recorders: number;
  running: number;
  cores: number;
  /** CPU it may still give to new jobs (recorder/admission.ts) */
  freeCores: number;
  /** SIGTERM: it takes no new jobs and finishes those it runs */
  draining: boolean;
  /** its name for the asset copies on its disk (assets' local_node): while it reports, nobody else uploads them */
  storageNode?: string;
  at: string;
}

export interface JobQueue {
  enqueue(kind: JobKind, jobId: string): Promise<void>;
  /** Claims the oldest queued job of the given kinds for this worker, or null. */
  claim(workerId: string, kinds: JobKind[]): Promise<QueuedJob | null>;
  heartbeat(queueId: string, workerId: string): Promise<boolean>;
  complete(queueId: string): Promise<void>;
  /** Gives a claimed job back for another worker to take at once (a drained machine hands it over). */
  release(queueId: string, workerId: string): Promise<void>;
  /** Puts jobs whose worker stopped heartbeating back in the queue. */
  requeueStale(olderThanMs: number): Promise<number>;
  /** Wakes workers waiting in-process. */
  onEnqueue(listener: () => void): () => void;
  /** Releases connections (the fleet's Redis) at shutdown. */
  close(): Promise<void>;
  /** A machine's report, kept for `ttlMs` (a fleet's Redis; one machine alone keeps none). */
  announce(report: MachineReport, ttlMs: number): Promise<void>;
  /** The machines that reported within their ttl. */
  machines(): Promise<MachineReport[]>;
}

export class DbJobQueue implements JobQueue {
  private readonly listeners = new Set<() => void>();

  constructor(protected readonly db: Db) {}

  /** The job's queue row; its id. */
  protected async insert(kind: JobKind, jobId: string): Promise<string> {
    const id = objectId();
    await insertQueuedJob(this.db, { id, kind, jobId, at: rfc3339() });
    return id;
  }

  protected notify(): void {
    for (const l of this.listeners) l();
  }

  async enqueue(kind: JobKind, jobId: string): Promise<void> {
    await this.insert(kind, jobId);
    this.notify();
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

  /** The row given back, or null when this worker held none. */
  protected async releaseRow(queueId: string, workerId: string): Promise<QueuedJob | null> {
    const r = await releaseClaim(this.db, queueId, workerId, rfc3339());
    if (r) this.notify();
    return r && { id: r.id, kind: r.kind as JobKind, jobId: r.job_id, attempts: r.attempts };
  }

  async release(queueId: string, workerId: string): Promise<void> {
    await this.releaseRow(queueId, workerId);
  }

  /** The claims put back in the queue (rows), waking the workers here. */
  protected async requeueStaleRows(olderThanMs: number): Promise<QueuedJob[]> {
    const cutoff = new Date(now().getTime() - olderThanMs).toISOString();
    const rows = await requeueStaleJobs(this.db, cutoff, rfc3339());
    if (rows.length > 0) this.notify();
    return rows.map((r) => ({ id: r.id, kind: r.kind as JobKind, jobId: r.job_id, attempts: r.attempts }));
  }

  async requeueStale(olderThanMs: number): Promise<number> {
    return (await this.requeueStaleRows(olderThanMs)).length;
  }

  onEnqueue(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  async close(): Promise<void> {}

  async announce(_report: MachineReport, _ttlMs: number): Promise<void> {}

  async machines(): Promise<MachineReport[]> {
    return [];
  }
}
