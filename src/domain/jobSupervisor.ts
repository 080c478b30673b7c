// Starts and stops recorder jobs (composite recordings and live streams) without an API call (reference §6.2, §7):
//  - auto-start a recording when the first peer joins a room whose template has browserComposite.autoStart;
//  - stop a job `autoStopTimeout` seconds after the last non-recorder peer left ('last peer left') or at its
//    `maxDuration` ('max duration reached') — rules in autoStop.ts;
//  - a job started before anyone joined belongs to the session that opens when someone does.
// The stop rules are a periodic sweep over the database, not timers in memory, so a restart loses none.
import type { AppContext } from '../context.js';
import type { DomainEvent } from './events.js';
import type { Db } from '../store/db.js';
import { RecordingService, recordingConfigOf } from './recordingService.js';
import { LiveStreamService } from './liveStreamService.js';
import { autoStopReason, type AutoStoppableJob } from './autoStop.js';
import { isHiddenRole } from '../model/templates.js';
import { getTemplate } from '../store/templates.js';
import { isConflict } from './errors.js';
import { redactedError } from '../redact.js';

/** What the supervisor needs of one kind of job. */
interface JobKind {
  name: string;
  /** jobs that are starting or running */
  active(db: Db): Promise<Array<AutoStoppableJob & { id: string }>>;
  stopById(id: string, reason: string): Promise<unknown>;
  /** gives jobs of the room that have no session yet this one */
  linkSession(db: Db, roomId: string, sessionId: string): Promise<unknown>;
}

const LIVE = ['starting', 'running'];

export class JobSupervisor {
  private timer: NodeJS.Timeout | null = null;
  private offEvents: (() => void) | null = null;
  private sweeping = false;
  private readonly recordings: RecordingService;
  private readonly kinds: JobKind[];

  constructor(
    private readonly ctx: AppContext,
    private readonly sweepEveryMs = 1000,
  ) {
    this.recordings = new RecordingService(ctx);
    const streams = new LiveStreamService(ctx);
    this.kinds = [
      {
        name: 'recording',
        active: (db) => db.selectFrom('recordings').selectAll().where('status', 'in', LIVE).execute(),
        stopById: (id, reason) => this.recordings.stopById(id, reason),
        linkSession: (db, roomId, sessionId) =>
          db.updateTable('recordings').set({ session_id: sessionId }).where('room_id', '=', roomId).where('session_id', '=', '').where('status', 'in', LIVE).execute(),
      },
      {
        name: 'live stream',
        active: (db) => db.selectFrom('live_streams').selectAll().where('status', 'in', LIVE).execute(),
        stopById: (id, reason) => streams.stopById(id, reason),
        linkSession: (db, roomId, sessionId) =>
          db.updateTable('live_streams').set({ session_id: sessionId }).where('room_id', '=', roomId).where('session_id', '=', '').where('status', 'in', LIVE).execute(),
      },
    ];
  }

  start(): void {
    this.offEvents = this.ctx.events.on((e) => {
      if (e.type === 'peer.join.success') void this.onPeerJoin(e).catch((err) => this.ctx.log.error({ err: redactedError(err) }, 'auto-start failed'));
      if (e.type === 'session.open.success') void this.onSessionOpen(e).catch((err) => this.ctx.log.error({ err: redactedError(err) }, 'session link failed'));
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
      const r = await this.recordings.start(roomId, {});
      this.ctx.log.info({ roomId, recordingId: r.id }, 'recording auto-started on room join');
    } catch (err) {
      if (isConflict(err)) return; // already recording
      throw err;
    }
  }

  private async onSessionOpen(e: DomainEvent): Promise<void> {
    const sessionId = String(e.data.session_id ?? '');
    if (!e.room_id || !sessionId) return;
    for (const kind of this.kinds) await kind.linkSession(this.ctx.store.db, e.room_id, sessionId);
  }

  /** One pass of the stop rules; exported for tests. */
  async sweep(nowMs = Date.now()): Promise<void> {
    if (this.sweeping) return;
    this.sweeping = true;
    try {
      const db = this.ctx.store.db;
      for (const kind of this.kinds) {
        for (const job of await kind.active(db)) {
          const reason = await autoStopReason(db, job, nowMs);
          if (!reason) continue;
          this.ctx.log.info({ kind: kind.name, jobId: job.id, roomId: job.room_id, reason }, 'auto-stop');
          await kind.stopById(job.id, reason).catch(() => undefined);
        }
      }
    } catch (err) {
      this.ctx.log.error({ err: redactedError(err) }, 'recorder job sweep failed');
    } finally {
      this.sweeping = false;
    }
  }
}
