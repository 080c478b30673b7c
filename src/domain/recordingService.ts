// Recording jobs: start/stop/pause by REST or automatically, state kept in the `recordings` table, work handed
// to recorder workers through the job queue, beam.* events (their data: domain/beamEvents.ts) emitted at each
// step (reference §2, §5.4).
import type { AppContext } from '../context.js';
import { invalidInput, conflict, forbidden, notFound } from './errors.js';
import { rfc3339 } from '../clock.js';
import { bit, toJson } from '../store/db.js';
import type { AssetTable, RecordingTable } from '../store/schema.js';
import { activeRecordings, getRecordingRow } from '../store/recordings.js';
import {
  DEFAULT_RESOLUTION,
  isStoppable,
  resolutionProblems,
  STOP_REASONS,
  type ErrorType,
  type Resolution,
} from './recordingJob.js';
import type { JobStatus } from '../model/jobStatus.js';
import { RECORDER_ROLE, type RecordingConfig, type Template } from '../model/templates.js';
import { hostPortOf, isAllowedUrl } from './allowedHosts.js';
import { closeJob } from './jobClosing.js';
import { JobRows, newJobColumns, roomAndTemplate } from '../store/jobRows.js';
import { redactOptional } from '../redact.js';
import { beamEventBase, beamFailureData, beamRecordingSuccessData } from './beamEvents.js';

export interface StartRecordingInput {
  meeting_url?: string;
  resolution?: Resolution;
  destination?: string;
  audio_only?: boolean;
  transcription?: { enabled?: boolean };
}

export function recordingConfigOf(t: Template): RecordingConfig | undefined {
  return t.recordings[0];
}

/**
 * Hosts a recorder may open: this server's own host:port (its public URL, and loopback on the port it
 * listens on) and RECORDER_ALLOWED_HOSTS, each with its port — not any service of an allowed host.
 */
export function recorderAllowedHosts(ctx: AppContext): string[] {
  const own = [hostPortOf(ctx.config.publicUrl)];
  if (ctx.config.port !== 0) own.push(`127.0.0.1:${ctx.config.port}`, `localhost:${ctx.config.port}`);
  return [...new Set([...own, ...ctx.config.recorderAllowedHosts])];
}

/** Our own meeting page for the room, as `role` (the recording config's role; the recorder joins hidden). */
export function defaultMeetingUrl(ctx: AppContext, roomId: string, role: string = RECORDER_ROLE): string {
  return `${ctx.config.publicUrl}/preview/${roomId}/${encodeURIComponent(role)}?skip_preview=true`;
}

/**
 * The page a recorder opens: our own meeting page for the room (as `role`) unless the caller gives one,
 * which must be http(s) on a host the recorder may open. Shared by recordings and live streams.
 */
export function resolveMeetingUrl(ctx: AppContext, roomId: string, given: string | undefined, role: string = RECORDER_ROLE): string {
  if (!given) return defaultMeetingUrl(ctx, roomId, role);
  let u: URL;
  try {
    u = new URL(given);
  } catch {
    throw invalidInput('Invalid meeting_url', 'body/meeting_url must be an absolute http(s) URL');
  }
  if (!/^https?:$/.test(u.protocol)) throw invalidInput('Invalid meeting_url', 'body/meeting_url must be http or https');
  const allowed = recorderAllowedHosts(ctx);
  if (!isAllowedUrl(u, allowed)) {
    throw invalidInput(
      'meeting_url host not allowed',
      `body/meeting_url host ${hostPortOf(u.toString())} is not in the recorder's allowed hosts (${allowed.join(', ')}); set RECORDER_ALLOWED_HOSTS=host:port`,
    );
  }
  return u.toString();
}

export class RecordingService {
  private readonly rows: JobRows<'recordings'>;

  constructor(private readonly ctx: AppContext) {
    this.rows = new JobRows(ctx.store.db, 'recordings');
  }

  private get db() {
    return this.ctx.store.db;
  }

  async start(roomId: string, input: StartRecordingInput, startedBy = ''): Promise<RecordingTable> {
    const { room, template } = await roomAndTemplate(this.db, roomId);
    if (room.enabled !== 1) throw forbidden('Room is disabled', `room ${roomId} is disabled: enable it to record`);
    const cfg = recordingConfigOf(template);
    const composite = cfg?.compositeRecording?.browserComposite;
    if (input.transcription?.enabled) {
      throw invalidInput('Transcription is not available', 'body/transcription/enabled: transcription is not supported by this server');
    }
    if (input.destination !== undefined && input.destination !== (cfg?.name ?? 'default')) {
      throw invalidInput('Unknown destination', `body/destination ${input.destination} is not a recording destination of template ${template.name}`);
    }
    if (!input.meeting_url && composite?.enabled === false) {
      throw invalidInput('meeting_url is required', 'body/meeting_url is required: composite recording is not enabled on the template');
    }
    const resolution: Resolution = input.resolution ??
      (composite?.width && composite?.height ? { width: composite.width, height: composite.height } : DEFAULT_RESOLUTION);
    const problems = resolutionProblems(resolution);
    if (problems.length) throw invalidInput('Resolution not supported', ...problems);
    // RecordingConfig.role: the role the recorder joins (hidden) and sees the room as
    const meetingUrl = resolveMeetingUrl(this.ctx, roomId, input.meeting_url, cfg?.role && template.roles[cfg.role] ? cfg.role : RECORDER_ROLE);
    const active = await activeRecordings(this.db, roomId);
    if (active.length > 0) {
      throw conflict('Recording already running', `recording ${active[0].id} of room ${roomId} is ${active[0].status}: stop it before starting another`);
    }
    const row: RecordingTable = {
      ...(await newJobColumns(this.db, {
        room_id: roomId,
        meeting_url: meetingUrl,
        destination: cfg?.name ?? 'default',
        max_duration: cfg?.maxDuration ?? 4 * 3600,
        auto_stop_timeout: composite?.autoStopTimeout ?? 300,
        started_by: startedBy,
      })),
      asset_types: toJson(['room-composite']),
      width: resolution.width,
      height: resolution.height,
      audio_only: bit(input.audio_only),
      paused: 0,
    };
    try {
      await this.db.insertInto('recordings').values(row).execute();
    } catch (err) {
      // two starts racing: the other one won
      if ((await activeRecordings(this.db, roomId)).some((r) => r.id !== row.id)) throw conflict('Recording already running', `room ${roomId} has an active recording`);
      throw err;
    }
    await this.ctx.queue.enqueue('recording', row.id);
    return row;
  }

  /** Asks every starting/running recording of the room to stop. */
  async stopRoom(roomId: string, reason: string = STOP_REASONS.clientRequest, stoppedBy = ''): Promise<RecordingTable[]> {
    await roomAndTemplate(this.db, roomId);
    const stoppable = (await activeRecordings(this.db, roomId)).filter((r) => isStoppable(r.status));
    if (stoppable.length === 0) throw notFound('active recording', `in room ${roomId}`);
    const out: RecordingTable[] = [];
    for (const r of stoppable) out.push(await this.requestStop(r, reason, stoppedBy));
    return out;
  }

  async stopById(id: string, reason: string = STOP_REASONS.clientRequest, stoppedBy = ''): Promise<RecordingTable> {
    const r = await getRecordingRow(this.db, id);
    if (!r) throw notFound('recording', id);
    if (r.status === 'stopping') return r;
    if (!isStoppable(r.status)) throw conflict('Recording is not running', `recording ${id} is ${r.status}`);
    return this.requestStop(r, reason, stoppedBy);
  }

  private requestStop(r: RecordingTable, reason: string, stoppedBy: string): Promise<RecordingTable> {
    return this.rows.requestStop(r, reason, stoppedBy);
  }

  async setPaused(roomId: string, paused: boolean): Promise<RecordingTable> {
    await roomAndTemplate(this.db, roomId);
    const running = (await activeRecordings(this.db, roomId)).find((r) => r.status === 'running');
    if (!running) throw notFound('running recording', `in room ${roomId}`);
    if ((running.paused === 1) === paused) throw conflict(paused ? 'Recording already paused' : 'Recording is not paused', `recording ${running.id}`);
    const set = { paused: bit(paused), updated_at: rfc3339() };
    await this.db.updateTable('recordings').set(set).where('id', '=', running.id).execute();
    return { ...running, ...set };
  }

  // ---- moves reported by the recorder worker ----

  /** Moves a job's status if the move is allowed from where it is now; returns the row after, or null. */
  move(id: string, to: JobStatus, set: Partial<RecordingTable> = {}): Promise<RecordingTable | null> {
    return this.rows.move(id, to, set);
  }

  async markRunning(id: string, startedAt: Date): Promise<RecordingTable | null> {
    const r = await this.move(id, 'running', { started_at: startedAt.toISOString() });
    if (!r) return null;
    const base = await beamEventBase(this.db, r);
    await this.ctx.events.emit('beam.started.success', r.room_id, {
      ...base,
      start_delay: Math.max(0, Math.round((startedAt.getTime() - Date.parse(r.created_at)) / 1000)),
      state_name: 'Started',
      state_timestamp: startedAt.toISOString(),
    });
    return r;
  }

  /**
   * The recorder finished (asked to, or it crashed): record the asset if any bytes were captured, then close
   * the job as completed, or failed with the error type. Nothing captured is dropped.
   */
  async finish(
    id: string,
    outcome: { asset: AssetTable | null; presignedUrl: string | null; errorType?: ErrorType; errorMessage?: string; stoppedAt: Date },
  ): Promise<RecordingTable | null> {
    const before = await getRecordingRow(this.db, id);
    if (!before) return null;
    // With a customer store configured, the asset is uploaded first and beam.recording.success follows the
    // upload (storage/uploads.ts reports it, domain/uploadEvents.ts sends it); without one it goes out below.
    const asset = outcome.asset ? await this.ctx.uploads.prepare(outcome.asset, outcome.asset.status === 'completed') : null;
    if (asset) await this.db.insertInto('assets').values(asset).execute();
    const { after, failed, reason } = await closeJob(this.rows, before, outcome);
    if (!after) return null;
    const base = await beamEventBase(this.db, after);
    const duration = asset?.duration ?? 0;
    if (after.started_at) {
      await this.ctx.events.emit('beam.stopped.success', after.room_id, {
        ...base,
        duration,
        state_name: 'Stopped',
        state_timestamp: outcome.stoppedAt.toISOString(),
        reason,
      });
    }
    if (asset && asset.status === 'completed' && asset.upload_state !== 'pending') {
      await this.ctx.events.emit('beam.recording.success', after.room_id, beamRecordingSuccessData(after, base, asset, outcome.presignedUrl));
    }
    if (failed) {
      await this.ctx.events.emit(
        'beam.failure',
        after.room_id,
        beamFailureData(base, { message: redactOptional(outcome.errorMessage) ?? outcome.errorType, type: outcome.errorType, at: outcome.stoppedAt.toISOString(), duration }),
      );
    }
    // the upload starts after the job's own events, so beam.recording.success never precedes beam.stopped.success
    if (asset?.upload_state === 'pending') await this.ctx.uploads.schedule(asset.id);
    return after;
  }

  /** Non-paginated read used by workers and auto start/stop. */
  async get(id: string): Promise<RecordingTable | undefined> {
    return getRecordingRow(this.db, id);
  }
}
