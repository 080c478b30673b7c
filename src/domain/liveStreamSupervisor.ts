// Stops live streams without an API call, by the same rules as recordings (reference §7, shared in
// autoStop.ts): the destination's `autoStopTimeout` after the room became empty ('last peer left'), its
// `maxDuration` ('max duration reached'). A periodic sweep over the database, so a restart loses nothing.
// It also gives a stream started before anyone joined the session that opens when someone does.
import type { AppContext } from '../context.js';
import type { DomainEvent } from './events.js';
import { LiveStreamService } from './liveStreamService.js';
import { autoStopReason } from './autoStop.js';
import { STOP_REASONS } from './recordingJob.js';

export class LiveStreamSupervisor {
  private timer: NodeJS.Timeout | null = null;
  private offEvents: (() => void) | null = null;
  private sweeping = false;
  private readonly service: LiveStreamService;

  constructor(
    private readonly ctx: AppContext,
    private readonly sweepEveryMs = 1000,
  ) {
    this.service = new LiveStreamService(ctx);
  }

  start(): void {
    this.offEvents = this.ctx.events.on((e) => {
      if (e.type === 'session.open.success') void this.onSessionOpen(e).catch((err) => this.ctx.log.error({ err }, 'live stream session link failed'));
    });
    this.timer = setInterval(() => void this.sweep(), this.sweepEveryMs);
    this.timer.unref();
  }

  stop(): void {
    this.offEvents?.();
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  private async onSessionOpen(e: DomainEvent): Promise<void> {
    const sessionId = String(e.data.session_id ?? '');
    if (!e.room_id || !sessionId) return;
    await this.ctx.store.db
      .updateTable('live_streams')
      .set({ session_id: sessionId })
      .where('room_id', '=', e.room_id)
      .where('session_id', '=', '')
      .where('status', 'in', ['starting', 'running'])
      .execute();
  }

  /** One pass of the stop rules; exported for tests. */
  async sweep(nowMs = Date.now()): Promise<void> {
    if (this.sweeping) return;
    this.sweeping = true;
    try {
      const streams = await this.ctx.store.db.selectFrom('live_streams').selectAll().where('status', 'in', ['starting', 'running']).execute();
      for (const r of streams) {
        const reason = await autoStopReason(this.ctx.store.db, r, nowMs);
        if (!reason) continue;
        this.ctx.log.info({ streamId: r.id, roomId: r.room_id, reason }, reason === STOP_REASONS.lastPeerLeft ? 'auto-stop: room empty' : 'auto-stop');
        await this.service.stopById(r.id, reason).catch(() => undefined);
      }
    } catch (err) {
      this.ctx.log.error({ err }, 'live stream sweep failed');
    } finally {
      this.sweeping = false;
    }
  }
}
