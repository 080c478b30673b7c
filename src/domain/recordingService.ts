// Recording jobs: start/stop/pause by REST or automatically, state kept in the `recordings` table, work handed
// to recorder workers through the job queue, beam.* events (their data: domain/beamEvents.ts) emitted at each
// step (reference §2, §5.4). What every job kind shares is domain/jobService.ts.
import { invalidInput, conflict, notFound } from './errors.js';
import { rfc3339 } from '../clock.js';
import { bit, toJson } from '../store/db.js';
import type { AssetTable, RecordingTable } from '../store/schema.js';
import { AUDIO_KBPS, DEFAULT_RESOLUTION, MP4_VIDEO_MAX_KBPS, resolutionProblems, type ErrorType, type Resolution } from './recordingJob.js';
import { RECORDER_ROLE, type RecordingConfig, type Template } from '../model/templates.js';
import { resolveMeetingUrl } from './meetingUrl.js';
import type { JobEnding } from './jobClosing.js';
import { newJobColumns, roomAndTemplate } from '../store/jobRows.js';
import { setRecordingPaused } from '../store/recordings.js';
import { redactOptional } from '../redact.js';
import { beamEventBase, beamFailureData, beamRecordingSuccessData } from './beamEvents.js';
import { JobService, type JobServiceDeps } from './jobService.js';

export interface StartRecordingInput {
  meeting_url?: string;
  resolution?: Resolution;
  destination?: string;
  audio_only?: boolean;
  transcription?: { enabled?: boolean };
}

/** How a recording ended, as its worker reports it. */
export interface RecordingOutcome extends JobEnding {
  asset: AssetTable | null;
  presignedUrl: string | null;
  errorType?: ErrorType;
}

export function recordingConfigOf(t: Template): RecordingConfig | undefined {
  return t.recordings[0];
}

export class RecordingService extends JobService<'recordings', RecordingOutcome> {
  constructor(deps: JobServiceDeps) {
    super(deps, { table: 'recordings', queue: 'recording', noun: 'recording', verb: 'record' });
  }

  async start(roomId: string, input: StartRecordingInput, startedBy = ''): Promise<RecordingTable> {
    const { template } = await this.startable(roomId, input);
    const cfg = recordingConfigOf(template);
    const composite = cfg?.compositeRecording?.browserComposite;
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
    const meetingUrl = resolveMeetingUrl(this.deps.config, roomId, input.meeting_url, cfg?.role && template.roles[cfg.role] ? cfg.role : RECORDER_ROLE);
    await this.refuseIfActive(roomId);
    this.refuseIfDiskShort(input.audio_only ? AUDIO_KBPS : MP4_VIDEO_MAX_KBPS + AUDIO_KBPS);
    return this.insertAndQueue({
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
    });
  }

  async setPaused(roomId: string, paused: boolean): Promise<RecordingTable> {
    await roomAndTemplate(this.db, roomId);
    const running = (await this.rows.active(roomId)).find((r) => r.status === 'running');
    if (!running) throw notFound('running recording', `in room ${roomId}`);
    if ((running.paused === 1) === paused) throw conflict(paused ? 'Recording already paused' : 'Recording is not paused', `recording ${running.id}`);
    const set = { paused: bit(paused), updated_at: rfc3339() };
    await setRecordingPaused(this.db, running.id, set);
    return { ...running, ...set };
  }

  // ---- moves reported by the recorder worker ----

  async markRunning(id: string, startedAt: Date): Promise<RecordingTable | null> {
    const r = await this.move(id, 'running', { started_at: startedAt.toISOString() });
    if (!r) return null;
    await this.deps.events.emit('beam.started.success', r.room_id, {
      ...(await beamEventBase(this.db, r)),
      start_delay: this.startDelay(r, startedAt),
      state_name: 'Started',
      state_timestamp: startedAt.toISOString(),
    });
    return r;
  }

  /**
   * The recorder finished (asked to, or it crashed): record the asset if any bytes were captured, then close
   * the job as completed, or failed with the error type. Nothing captured is dropped.
   */
  async finish(id: string, outcome: RecordingOutcome): Promise<RecordingTable | null> {
    const asset = outcome.asset && (await this.forUpload(outcome.asset));
    return this.close(id, asset ? [asset] : [], { ...outcome, asset });
  }

  protected nothingCaptured(ending: JobEnding): RecordingOutcome {
    return { ...ending, asset: null, presignedUrl: null };
  }

  protected async closeEvents(_before: RecordingTable, after: RecordingTable, reason: string, failed: boolean, ending: RecordingOutcome): Promise<void> {
    const base = await beamEventBase(this.db, after);
    const { asset } = ending;
    const duration = asset?.duration ?? 0;
    if (after.started_at) {
      await this.deps.events.emit('beam.stopped.success', after.room_id, {
        ...base,
        duration,
        state_name: 'Stopped',
        state_timestamp: ending.stoppedAt.toISOString(),
        reason,
      });
    }
    if (asset && asset.status === 'completed' && asset.upload_state !== 'pending') {
      await this.deps.events.emit('beam.recording.success', after.room_id, beamRecordingSuccessData(after, base, asset, ending.presignedUrl));
    }
    if (failed) {
      await this.deps.events.emit(
        'beam.failure',
        after.room_id,
        beamFailureData(base, { message: redactOptional(ending.errorMessage) ?? ending.errorType, type: ending.errorType, at: ending.stoppedAt.toISOString(), duration }),
      );
    }
  }
}
