// Takes jobs of some kinds from the queue and runs them, at most `concurrency` at once, with a heartbeat per
// job and stale jobs (dead worker) put back in the queue. One loop can serve several kinds, so recordings and
// live streams on a machine share one limit: new JobLoop(deps, { recording: w.runJob, 'live-stream': l.runJob }).
import type { Logger } from '../logger.js';
import type { JobKind, JobQueue, QueuedJob } from '../jobs/queue.js';
import { objectId } from '../clock.js';
import { redactedError } from '../redact.js';
import type { Admission } from './admission.js';

/** 'handedOver': the job goes back to the queue for another worker (a drained machine), not done */
export type JobHandler = (job: QueuedJob, workerId: string) => Promise<void | 'handedOver'>;

const HEARTBEAT_MS = 5000;

export interface JobLoopDeps {
  queue: JobQueue;
  log: Logger;
  /** a job whose worker has not heartbeaten for this long is put back in the queue (RECORDER_TAKEOVER) */
  takeoverMs: number;
  /** which kinds still fit on this machine; without it, any while fewer than `concurrency` run */
  admission?: Admission;
  /** a claimed job's cost (its size), checked against `admission` before it runs; the kind's least cost without it */
  costOf?: (job: QueuedJob) => Promise<number>;
}

export class JobLoop {
  private readonly running = new Map<string, { kind: JobKind; cost: number; done: Promise<void> }>();
  /** a claimed job did not fit and went back: claim again only once fewer than this many jobs run */
  private fullAt: number | null = null;
  private stopped = false;
  private draining = false;
  private wake: (() => void) | null = null;
  private loopDone: Promise<void> | null = null;
  private offEnqueue: (() => void) | null = null;
  readonly workerId = `worker-${objectId()}`;

  constructor(
    private readonly deps: JobLoopDeps,
    private readonly handlers: Partial<Record<JobKind, JobHandler>>,
    private readonly concurrency: number,
  ) {}

  start(): void {
    if (this.concurrency <= 0) return;
    this.offEnqueue = this.deps.queue.onEnqueue(() => this.wake?.());
    this.loopDone = this.loop();
  }

  /**
   * Stops taking work and gives the jobs in hand up to `timeoutMs` to end on their own (stopped through the API,
   * auto-stop); whether they all did. stop() ends whatever is left.
   */
  async drain(timeoutMs: number): Promise<boolean> {
    this.draining = true;
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<void>((resolve) => (timer = setTimeout(resolve, timeoutMs)));
    await Promise.race([Promise.allSettled([...this.running.values()].map((r) => r.done)), timedOut]);
    clearTimeout(timer);
    return this.running.size === 0;
  }

  get isDraining(): boolean {
    return this.draining;
  }

  /** Stops taking work and waits for the jobs in hand (their handlers decide how to end them). */
  async stop(): Promise<void> {
    this.stopped = true;
    this.offEnqueue?.();
    this.wake?.();
    await this.loopDone;
    await Promise.allSettled([...this.running.values()].map((r) => r.done));
  }

  private async loop(): Promise<void> {
    const kinds = Object.keys(this.handlers) as JobKind[];
    let lastStaleCheck = 0;
    while (!this.stopped) {
      try {
        const staleMs = this.deps.takeoverMs;
        if (Date.now() - lastStaleCheck > staleMs / 2) {
          lastStaleCheck = Date.now();
          await this.deps.queue.requeueStale(staleMs);
        }
        if (this.fullAt !== null && this.running.size < this.fullAt) this.fullAt = null;
        while (this.running.size < this.concurrency && !this.stopped && !this.draining && this.fullAt === null) {
          const admission = this.deps.admission;
          const fit = admission ? admission.kindsThatFit(this.runningCosts(), kinds) : kinds;
          if (fit.length === 0) break;
          const job = await this.deps.queue.claim(this.workerId, fit);
          if (!job) break;
          const cost = admission ? await this.costOf(job, admission) : 0;
          if (admission && !admission.fits(this.runningCosts(), cost)) {
            // larger than its kind's least cost (a 1080p composite): back to the queue, for another machine or
            // for this one once a job here ends
            await this.deps.queue.release(job.id, this.workerId);
            this.fullAt = this.running.size;
            break;
          }
          const done = this.run(job)
            .catch((err) => this.deps.log.error({ err: redactedError(err), jobId: job.jobId, kind: job.kind }, 'recorder job crashed'))
            .finally(() => this.running.delete(job.id));
          this.running.set(job.id, { kind: job.kind, cost, done });
        }
      } catch (err) {
        this.deps.log.error({ err }, 'recorder job loop error');
      }
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, 1000);
        this.wake = () => {
          clearTimeout(t);
          resolve();
        };
      });
      this.wake = null;
    }
  }

  private async costOf(job: QueuedJob, admission: Admission): Promise<number> {
    const least = admission.costOfKind(job.kind);
    if (!this.deps.costOf) return least;
    return this.deps.costOf(job).catch(() => least);
  }

  /** Measured costs of the jobs this loop runs now (cores). */
  runningCosts(): number[] {
    return [...this.running.values()].map((r) => r.cost);
  }

  /** Kinds of the jobs this loop runs now. */
  runningKinds(): JobKind[] {
    return [...this.running.values()].map((r) => r.kind);
  }

  private async run(job: QueuedJob): Promise<void> {
    const heartbeat = setInterval(() => void this.deps.queue.heartbeat(job.id, this.workerId).catch(() => undefined), HEARTBEAT_MS);
    let handedOver = false;
    try {
      handedOver = (await this.handlers[job.kind]!(job, this.workerId)) === 'handedOver';
    } finally {
      clearInterval(heartbeat);
      if (handedOver) await this.deps.queue.release(job.id, this.workerId).catch((err) => this.deps.log.error({ err: redactedError(err), jobId: job.jobId }, 'could not hand the job over (it is taken over once its claim is stale)'));
      else await this.deps.queue.complete(job.id).catch(() => undefined);
    }
  }
}
