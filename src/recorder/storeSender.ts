// What a job sends to its store while it runs, on a timer beside the worker's poll: one send at a time, at
// most once per interval, a failed send retried at the next tick (the local files keep everything meanwhile),
// and a flush when the capture stopped. The MP4's parts (streamedParts.ts) and a fleet's live ladder
// (liveMirror.ts) are the two kinds; each says only what one send does.
import type { Logger } from '../logger.js';
import { describeStoreError } from '../storage/index.js';

export abstract class StoreSender {
  private busy: Promise<void> | null = null;
  private lastAt = 0;
  private failing = false;

  /** `what`: "recording", "live stream" (in log lines) */
  constructor(
    protected readonly log: Logger,
    private readonly intervalMs: number,
    private readonly what: string,
  ) {}

  /** One send of what is new since the last. */
  protected abstract send(): Promise<void>;

  /** Sends what was written since the last time, at most once per interval and one send at a time. */
  tick(): void {
    if (this.busy || Date.now() - this.lastAt < this.intervalMs) return;
    this.lastAt = Date.now();
    this.busy = this.send()
      .then(() => {
        if (this.failing) this.log.info(`the ${this.what} reaches its store again`);
        this.failing = false;
      })
      .catch((err) => {
        if (!this.failing) this.log.warn({ err: describeStoreError(err) }, `could not send the ${this.what}'s latest part to its store (the local files have it; retrying)`);
        this.failing = true;
      })
      .finally(() => (this.busy = null));
  }

  /**
   * Sends everything written (the capture has stopped): true once the store holds it all, false when it could
   * not within `timeoutMs` (the local files still have it).
   */
  async flush(timeoutMs = 10_000): Promise<boolean> {
    await this.busy;
    const until = Date.now() + timeoutMs;
    for (;;) {
      try {
        await this.send();
        return true;
      } catch (err) {
        if (Date.now() >= until) {
          this.log.warn({ err: describeStoreError(err) }, `could not send the rest of the ${this.what} to its store`);
          return false;
        }
        await new Promise((r) => setTimeout(r, 500));
      }
    }
  }

  /** Waits for a send in flight. */
  async close(): Promise<void> {
    await this.busy;
  }
}
