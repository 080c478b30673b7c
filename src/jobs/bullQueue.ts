// The job queue of a fleet (REDIS_URL): BullMQ on Redis carries "who runs it" — each job delivered to one
// worker at a time, a lock its worker keeps extending (the heartbeat), a job whose worker died (lock expired)
// delivered again — while the database row stays the truth about the claim: a worker runs a job only after
// its fenced claim of the row (queued → claimed by it), so a job BullMQ delivers twice never gets two
// recorders. A row the database puts back in the queue (its worker stopped heartbeating) is handed to BullMQ
// again, under a new BullMQ id.
import { Queue, QueueEvents, Worker, type Job, type ConnectionOptions } from 'bullmq';
import { Redis, type RedisOptions } from 'ioredis';
import type { Db } from '../store/db.js';
import { now, objectId } from '../clock.js';
import { claimJobById, queuedSince } from '../store/jobQueue.js';
import { DbJobQueue, type JobKind, type MachineReport, type QueuedJob } from './queue.js';

const QUEUE_NAME = 'roomcast-jobs';
/** one key per recorder machine, expiring when it stops reporting */
const MACHINE_PREFIX = 'roomcast:machine:';
/** a row still queued this long after it was last handed to BullMQ is handed again (a delivery lost to a Redis outage) */
const REDELIVER_AFTER_MS = 5000;

interface Delivery {
  queueId: string;
  kind: JobKind;
  jobId: string;
}

/** ioredis options from a redis:// URL; BullMQ needs maxRetriesPerRequest null on its blocking connection. */
export function redisConnection(url: string): ConnectionOptions {
  const u = new URL(url);
  if (u.protocol !== 'redis:' && u.protocol !== 'rediss:') throw new Error(`REDIS_URL must be redis:// or rediss://, got ${u.protocol}`);
  return {
    host: u.hostname,
    port: Number(u.port || 6379),
    username: u.username ? decodeURIComponent(u.username) : undefined,
    password: u.password ? decodeURIComponent(u.password) : undefined,
    db: u.pathname.length > 1 ? Number(u.pathname.slice(1)) : 0,
    tls: u.protocol === 'rediss:' ? {} : undefined,
    maxRetriesPerRequest: null,
  };
}

/**
 * BullMQ's objects emit 'error' when Redis is unreachable, and an 'error' event nobody listens to throws, which
 * would end the server. ioredis reconnects by itself; the job loop's calls fail meanwhile and are retried.
 */
function quiet<T extends { on(event: 'error', listener: (err: Error) => void): unknown }>(emitter: T): T {
  emitter.on('error', () => undefined);
  return emitter;
}

export class BullJobQueue extends DbJobQueue {
  private readonly queue: Queue<Delivery>;
  /** created on the first claim: a node without recorders only adds jobs */
  private worker: Worker<Delivery> | null = null;
  /** BullMQ jobs this process holds, by queue row id, with the lock token they were fetched with */
  private readonly held = new Map<string, { job: Job<Delivery>; token: string }>();
  private redis: Redis | null = null;
  private events: QueueEvents | null = null;

  constructor(
    db: Db,
    private readonly connection: ConnectionOptions,
    /** a held job's lock lasts this long without a heartbeat (RECORDER_TAKEOVER) */
    private readonly lockMs: number,
  ) {
    super(db);
    // adding fails at once while Redis is unreachable, rather than waiting for it under an API call
    this.queue = quiet(new Queue<Delivery>(QUEUE_NAME, { connection: { ...connection, enableOfflineQueue: false } as ConnectionOptions }));
  }

  /** A row's BullMQ job: the same id for the same delivery, so handing it again while it waits there is a no-op. */
  private deliver(row: { queueId: string; kind: JobKind; jobId: string; attempts: number }): Promise<unknown> {
    const { queueId, kind, jobId } = row;
    const bullId = row.attempts === 0 ? queueId : `${queueId}-${row.attempts}`;
    return this.queue.add(kind, { queueId, kind, jobId }, { jobId: bullId, removeOnComplete: true, removeOnFail: 1000 });
  }

  /** The row is the truth: when Redis cannot take the delivery now, the row waits and redeliver() hands it over later. */
  override async enqueue(kind: JobKind, jobId: string): Promise<void> {
    const queueId = await this.insert(kind, jobId);
    await this.deliver({ queueId, kind, jobId, attempts: 0 }).catch(() => undefined);
    this.notify();
  }

  private workerOf(): Worker<Delivery> {
    if (!this.worker) {
      // manual fetching (no processor): the job loop decides when it has room; the database fences claims, so
      // BullMQ may deliver a stalled job any number of times
      this.worker = quiet(new Worker<Delivery>(QUEUE_NAME, null, { connection: this.connection, autorun: false, lockDuration: this.lockMs, stalledInterval: Math.max(1000, Math.round(this.lockMs / 2)), maxStalledCount: 1000 }));
      this.worker.startStalledCheckTimer().catch(() => undefined);
      // a job added anywhere in the fleet wakes this machine's job loop at once (it polls each second otherwise)
      this.events = quiet(new QueueEvents(QUEUE_NAME, { connection: this.connection }));
      this.events.on('waiting', () => this.notify());
    }
    return this.worker;
  }

  override async claim(workerId: string, kinds: JobKind[]): Promise<QueuedJob | null> {
    const worker = this.workerOf();
    for (let tries = 0; tries < 5; tries++) {
      const token = `${workerId}:${objectId()}`;
      const job = (await worker.getNextJob(token, { block: false })) as Job<Delivery> | undefined;
      if (!job) return null;
      if (!kinds.includes(job.data.kind)) {
        // a kind that does not fit here now: back to the queue for another machine (or this one, later)
        await job.moveToDelayed(Date.now() + 500, token).catch(() => undefined);
        continue;
      }
      const row = await claimJobById(this.db, job.data.queueId, workerId);
      if (row) {
        this.held.set(row.id, { job, token });
        return { id: row.id, kind: row.kind as JobKind, jobId: row.job_id, attempts: row.attempts };
      }
      // not waiting any more (stopped, withdrawn, done, or held by a live worker): nothing to run
      await job.moveToCompleted('not claimable', token, false).catch(() => undefined);
    }
    return null;
  }

  override async heartbeat(queueId: string, workerId: string): Promise<boolean> {
    const held = this.held.get(queueId);
    if (held) await held.job.extendLock(held.token, this.lockMs).catch(() => undefined);
    return super.heartbeat(queueId, workerId);
  }

  override async complete(queueId: string): Promise<void> {
    await super.complete(queueId);
    const held = this.held.get(queueId);
    this.held.delete(queueId);
    if (held) await held.job.moveToCompleted('done', held.token, false).catch(() => undefined);
  }

  override async release(queueId: string, workerId: string): Promise<void> {
    const row = await this.releaseRow(queueId, workerId);
    const held = this.held.get(queueId);
    this.held.delete(queueId);
    if (held) await held.job.moveToCompleted('handed over', held.token, false).catch(() => undefined);
    if (row) await this.deliver({ queueId: row.id, kind: row.kind, jobId: row.jobId, attempts: row.attempts }).catch(() => undefined);
  }

  override async requeueStale(olderThanMs: number): Promise<number> {
    const rows = await this.requeueStaleRows(olderThanMs);
    for (const r of rows) await this.deliver({ queueId: r.id, kind: r.kind, jobId: r.jobId, attempts: r.attempts }).catch(() => undefined);
    // Redis unreachable: the rows wait for the next round
    await this.redeliver(REDELIVER_AFTER_MS).catch(() => undefined);
    return rows.length;
  }

  /** Rows queued for longer than `olderThanMs` handed to BullMQ again; those it still holds are left as they are (same id). */
  async redeliver(olderThanMs: number): Promise<void> {
    const rows = await queuedSince(this.db, new Date(now().getTime() - olderThanMs).toISOString());
    for (const r of rows) await this.deliver({ queueId: r.id, kind: r.kind as JobKind, jobId: r.job_id, attempts: r.attempts });
  }

  /** the machines' reports: a plain client of the same Redis (BullMQ's own is for its queue) */
  private redisOf(): Redis {
    this.redis ??= quiet(new Redis({ ...(this.connection as RedisOptions), maxRetriesPerRequest: 1 }));
    return this.redis;
  }

  override async announce(report: MachineReport, ttlMs: number): Promise<void> {
    const redis = this.redisOf();
    await redis.set(`${MACHINE_PREFIX}${report.id}`, JSON.stringify(report), 'PX', ttlMs);
  }

  override async machines(): Promise<MachineReport[]> {
    const redis = this.redisOf();
    const keys: string[] = [];
    let cursor = '0';
    do {
      const [next, batch] = await redis.scan(cursor, 'MATCH', `${MACHINE_PREFIX}*`, 'COUNT', 100);
      keys.push(...batch);
      cursor = next;
    } while (cursor !== '0');
    if (keys.length === 0) return [];
    const values = await redis.mget(...keys);
    return values.filter((v): v is string => !!v).map((v) => JSON.parse(v) as MachineReport).sort((a, b) => a.id.localeCompare(b.id));
  }

  override async close(): Promise<void> {
    this.redis?.disconnect();
    await this.events?.close();
    await this.worker?.close();
    await this.queue.close();
  }
}
