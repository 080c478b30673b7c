// Takes jobs of some kinds from the queue and runs them, at most `concurrency` at once, with a heartbeat per
// job and stale jobs (dead worker) put back in the queue. One loop can serve several kinds, so recordings and
// live streams on a machine share one limit: new JobLoop(ctx, { recording: w.runJob, 'live-stream': l.runJob }).
import type { AppContext } from '../context.js';
import type { JobKind, QueuedJob } from '../jobs/queue.js';
import { objectId } from '../clock.js';
import { redactedError } from '../redact.js';

export type JobHandler = (job: QueuedJob, workerId: string) => Promise<void>;

const HEARTBEAT_MS = 5000;

export class JobLoop {
  private readonly running = new Map<string, Promise<void>>();
  private stopped = false;
  private wake: (() => void) | null = null;
  private loopDone: Promise<void> | null = null;
  private offEnqueue: (() => void) | null = null;
  readonly workerId = `worker-${objectId()}`;

  constructor(
    private readonly ctx: AppContext,
    private readonly handlers: Partial<Record<JobKind, JobHandler>>,
    private readonly concurrency = ctx.config.recorderWorkers,
  ) {}

  start(): void {
    if (this.concurrency <= 0) return;
    this.offEnqueue = this.ctx.queue.onEnqueue(() => this.wake?.());
    this.loopDone = this.loop();
  }

  /** Stops taking work and waits for the jobs in hand (their handlers decide how to end them). */
  async stop(): Promise<void> {
    this.stopped = true;
    this.offEnqueue?.();
    this.wake?.();
    await this.loopDone;
    await Promise.allSettled(this.running.values());
  }

  private async loop(): Promise<void> {
    const kinds = Object.keys(this.handlers) as JobKind[];
    let lastStaleCheck = 0;
    while (!this.stopped) {
      try {
        const staleMs = this.ctx.config.recorderTakeoverMs;
        if (Date.now() - lastStaleCheck > staleMs / 2) {
          lastStaleCheck = Date.now();
          await this.ctx.queue.requeueStale(staleMs);
        }
        while (this.running.size < this.concurrency && !this.stopped) {
          const job = await this.ctx.queue.claim(this.workerId, kinds);
          if (!job) break;
          const p = this.run(job)
            .catch((err) => this.ctx.log.error({ err: redactedError(err), jobId: job.jobId, kind: job.kind }, 'recorder job crashed'))
            .finally(() => this.running.delete(job.id));
          this.running.set(job.id, p);
        }
      } catch (err) {
        this.ctx.log.error({ err }, 'recorder job loop error');
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

  private async run(job: QueuedJob): Promise<void> {
    const heartbeat = setInterval(() => void this.ctx.queue.heartbeat(job.id, this.workerId).catch(() => undefined), HEARTBEAT_MS);
    try {
      await this.handlers[job.kind]!(job, this.workerId);
    } finally {
      clearInterval(heartbeat);
      await this.ctx.queue.complete(job.id).catch(() => undefined);
    }
  }
}
