// Starts and stops recorder jobs (composite recordings and live streams) without an API call (reference §6.2, §7):
//  - auto-start a recording when the first peer joins a room whose template has browserComposite.autoStart;
//  - stop a job `autoStopTimeout` seconds after the last non-recorder peer left ('last peer left') or at its
//    `maxDuration` ('max duration reached') — rules in autoStop.ts;
//  - fail a start that waited for a free recorder past RECORDER_START_TIMEOUT_SECONDS (RECORDER_UNAVAILABLE);
//  - a job started before anyone joined belongs to the session that opens when someone does.
// The stop rules are a periodic sweep over the database, not timers in memory, so a restart loses none.
import type { DomainEvent, EventLog } from './events.js';
import type { Db } from '../store/db.js';
import type { Logger } from '../logger.js';
import { recordingConfigOf, type RecordingService } from './recordingService.js';
import type { LiveStreamService } from './liveStreamService.js';
import { autoStopReason } from './autoStop.js';
import { isHiddenRole } from '../model/templates.js';
import { getTemplate } from '../store/templates.js';
import { getRoomRow } from '../store/rooms.js';
import { isConflict } from './errors.js';
import { redactedError } from '../redact.js';

/** What the supervisor is built with (server.ts): the job services whose rules it applies. */
export interface JobSupervisorDeps {
  db: Db;
  events: EventLog;
  log: Logger;
  recordings: RecordingService;
  liveStreams: LiveStreamService;
}

export class JobSupervisor {
  private timer: NodeJS.Timeout | null = null;
  private offEvents: (() => void) | null = null;
  private sweeping = false;
  private readonly kinds: Array<RecordingService | LiveStreamService>;

  constructor(
    private readonly deps: JobSupervisorDeps,
    private readonly sweepEveryMs = 1000,
  ) {
    this.kinds = [deps.recordings, deps.liveStreams];
  }

  start(): void {
    this.offEvents = this.deps.events.on((e) => {
      if (e.type === 'peer.join.success') void this.onPeerJoin(e).catch((err) => this.deps.log.error({ err: redactedError(err) }, 'auto-start failed'));
      if (e.type === 'session.open.success') void this.onSessionOpen(e).catch((err) => this.deps.log.error({ err: redactedError(err) }, 'session link failed'));
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
    const room = await getRoomRow(this.deps.db, roomId);
    if (!room || room.enabled !== 1) return;
    const template = await getTemplate(this.deps.db, room.template_id);
    const composite = template && recordingConfigOf(template)?.compositeRecording?.browserComposite;
    if (!composite?.autoStart) return;
    try {
      const r = await this.deps.recordings.start(roomId, {});
      this.deps.log.info({ roomId, recordingId: r.id }, 'recording auto-started on room join');
    } catch (err) {
      if (isConflict(err)) return; // already recording
      throw err;
    }
  }

  private async onSessionOpen(e: DomainEvent): Promise<void> {
    const sessionId = String(e.data.session_id ?? '');
    if (!e.room_id || !sessionId) return;
    for (const kind of this.kinds) await kind.linkSession(e.room_id, sessionId);
  }

  /** One pass of the stop rules; exported for tests. */
  async sweep(nowMs = Date.now()): Promise<void> {
    if (this.sweeping) return;
    this.sweeping = true;
    try {
      const db = this.deps.db;
      // starts that waited too long for a free recorder fail now, never silently late
      for (const kind of this.kinds) {
        for (const job of await kind.expireWaiting(nowMs)) {
          this.deps.log.warn({ kind: kind.kind.noun, jobId: job.id, roomId: job.room_id, error: job.error_message }, 'no free recorder in time');
        }
      }
      for (const kind of this.kinds) {
        for (const job of await kind.startingOrRunning()) {
          const reason = await autoStopReason(db, job, nowMs);
          if (!reason) continue;
          this.deps.log.info({ kind: kind.kind.noun, jobId: job.id, roomId: job.room_id, reason }, 'auto-stop');
          await kind.stopById(job.id, reason).catch(() => undefined);
        }
      }
    } catch (err) {
      this.deps.log.error({ err: redactedError(err) }, 'recorder job sweep failed');
    } finally {
      this.sweeping = false;
    }
  }
}
