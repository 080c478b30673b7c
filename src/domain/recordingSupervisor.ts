// Starts and stops recordings without an API call (reference §6.2, §7):
//  - auto-start when the first peer joins a room whose template has browserComposite.autoStart;
//  - auto-stop `autoStopTimeout` seconds after the last non-recorder peer left ('last peer left');
//  - stop at the template's maxDuration ('max duration reached').
// The stop rules are a periodic sweep over the database, not timers in memory, so a restart loses none.
import type { AppContext } from '../context.js';
import type { DomainEvent } from './events.js';
import { RecordingService, recordingConfigOf } from './recordingService.js';
import { STOP_REASONS } from './recordingJob.js';
import { isHiddenRole } from './templates.js';
import { autoStopReason } from './autoStop.js';
import { getTemplate } from '../store/templates.js';
import { ApiError } from '../api/errors.js';

export class RecordingSupervisor {
  private timer: NodeJS.Timeout | null = null;
  private offEvents: (() => void) | null = null;
  private sweeping = false;
  private readonly service: RecordingService;

  constructor(
    private readonly ctx: AppContext,
    private readonly sweepEveryMs = 1000,
  ) {
    this.service = new RecordingService(ctx);
  }

  start(): void {
    this.offEvents = this.ctx.events.on((e) => {
      if (e.type === 'peer.join.success') void this.onPeerJoin(e).catch((err) => this.ctx.log.error({ err }, 'auto-start failed'));
      if (e.type === 'session.open.success') void this.onSessionOpen(e).catch((err) => this.ctx.log.error({ err }, 'session link failed'));
    });
    this.timer = setInterval(() => void this.sweep(), this.sweepEveryMs);
    this.timer.unref();
  }

  stop(): void {
    this.offEvents?.();
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  private async onPeerJoin(e: DomainEvent): Promise<void> {
    const roomId = e.room_id;
    if (!roomId || isHiddenRole(String(e.data.role ?? ''))) return;
    const room = await this.ctx.store.db.selectFrom('rooms').select(['template_id', 'enabled']).where('id', '=', roomId).executeTakeFirst();
    if (!room || room.enabled !== 1) return;
    const template = await getTemplate(this.ctx.store.db, room.template_id);
    const composite = template && recordingConfigOf(template)?.compositeRecording?.browserComposite;
    if (!composite?.autoStart) return;
    try {
      const r = await this.service.start(roomId, {});
      this.ctx.log.info({ roomId, recordingId: r.id }, 'recording auto-started on room join');
    } catch (err) {
      if (err instanceof ApiError && err.status === 409) return; // already recording
      throw err;
    }
  }

  /** A recording started before anyone joined belongs to the session that opens when they do. */
  private async onSessionOpen(e: DomainEvent): Promise<void> {
    const sessionId = String(e.data.session_id ?? '');
    if (!e.room_id || !sessionId) return;
    await this.ctx.store.db
      .updateTable('recordings')
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
      const db = this.ctx.store.db;
      const running = await db.selectFrom('recordings').selectAll().where('status', 'in', ['starting', 'running']).execute();
      for (const r of running) {
        const reason = await autoStopReason(db, r, nowMs);
        if (!reason) continue;
        if (reason === STOP_REASONS.lastPeerLeft) this.ctx.log.info({ recordingId: r.id, roomId: r.room_id }, 'auto-stop: room empty');
        await this.service.stopById(r.id, reason).catch(() => undefined);
      }
    } catch (err) {
      this.ctx.log.error({ err }, 'recording sweep failed');
    } finally {
      this.sweeping = false;
    }
  }
}
