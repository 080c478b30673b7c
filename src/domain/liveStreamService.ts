// Live streams (HLS): start/stop/pause-recording/timed-metadata by REST or automatically, state kept in the
// `live_streams` table, work handed to recorder workers through the job queue ('live-stream'), hls.* events
// (their data: domain/hlsEvents.ts) emitted at each step (reference §4, §5.4). What every job kind shares is
// domain/jobService.ts.
import { randomBytes } from 'node:crypto';
import { invalidInput, conflict, notFound } from './errors.js';
import { objectId, rfc3339 } from '../clock.js';
import { bit, toJson } from '../store/db.js';
import type { AssetTable, LiveStreamTable } from '../store/schema.js';
import type { ErrorType } from './recordingJob.js';
import { resolveMeetingUrl } from './meetingUrl.js';
import type { HlsDestination, Template } from '../model/templates.js';
import { defaultHlsDestination } from './templateDefaults.js';
import { streamingDisabledByAutoStart } from './templateValidation.js';
import type { JobEnding } from './jobClosing.js';
import { newJobColumns } from '../store/jobRows.js';
import { insertTimedMetadata, setLiveStreamRecordingPaused } from '../store/liveStreams.js';
import { redactOptional } from '../redact.js';
import { hlsEventBase, hlsFailureData, hlsRecordingSuccessData, type SingleFileOutcome } from './hlsEvents.js';
import { JobService, type JobServiceDeps } from './jobService.js';

export interface StartLiveStreamInput {
  meeting_url?: string;
  recording?: { hls_vod?: boolean; single_file_per_layer?: boolean };
  destination?: string;
  transcription?: { enabled?: boolean };
}

/** Timed metadata limits (reference §4.3). */
export const TIMED_METADATA_MAX_PAYLOAD = 100;

export interface LiveStreamOutcome extends JobEnding {
  vod: { asset: AssetTable; presignedUrl: string | null } | null;
  singleFiles: SingleFileOutcome[];
  /** seconds the stream produced */
  duration: number;
  errorType?: ErrorType;
}

/**
 * The destination a start uses: the named one; the only one; or, on a template without HLS destinations
 * (live streaming not set up), the defaults — then the caller must say which page to stream (seed rule).
 */
export function pickDestination(template: Template, name: string | undefined, meetingUrlGiven: boolean): HlsDestination {
  const dests = template.destinations.hlsDestinations ?? {};
  const names = Object.keys(dests);
  if (name !== undefined) {
    if (!dests[name]) {
      throw invalidInput('Unknown destination', `body/destination ${name} is not an HLS destination of template ${template.name} (${names.join(', ') || 'none'})`);
    }
    return dests[name];
  }
  if (names.length > 1) {
    throw invalidInput('destination is required', `body/destination is required: template ${template.name} has several HLS destinations (${names.join(', ')})`);
  }
  if (names.length === 1) return dests[names[0]];
  if (!meetingUrlGiven) {
    throw invalidInput('meeting_url is required', `body/meeting_url is required: live streaming is not set up on template ${template.name} (no hlsDestinations)`);
  }
  return defaultHlsDestination('default');
}

export class LiveStreamService extends JobService<'live_streams', LiveStreamOutcome> {
  constructor(deps: JobServiceDeps) {
    super(deps, { table: 'live_streams', queue: 'live-stream', noun: 'live stream', verb: 'stream' });
  }

  async start(roomId: string, input: StartLiveStreamInput, startedBy = ''): Promise<LiveStreamTable> {
    const { template } = await this.startable(roomId, input);
    if (streamingDisabledByAutoStart(template)) {
      throw conflict(
        'Live streaming is disabled for this template',
        `template ${template.name} starts composite recording automatically on room join (recordings/compositeRecording/browserComposite/autoStart), which disables HLS streaming; turn auto-start off to stream`,
      );
    }
    const dest = pickDestination(template, input.destination, !!input.meeting_url);
    const meetingUrl = resolveMeetingUrl(this.deps.config, roomId, input.meeting_url);
    await this.refuseIfActive(roomId);
    // every layer's VBV cap (its bitrate + 10 %, recorder/encoder.ts) and its audio
    this.refuseIfDiskShort(dest.layers.reduce((kbps, l) => kbps + Math.round(l.videoBitrate * 1.1) + l.audioBitrate, 0));
    return this.insertAndQueue({
      ...(await newJobColumns(this.db, {
        room_id: roomId,
        meeting_url: meetingUrl,
        destination: dest.name,
        max_duration: dest.maxDuration,
        auto_stop_timeout: dest.autoStopTimeout,
        started_by: startedBy,
      })),
      // 128 random bits: the playback URL is the only credential a player has
      playback_key: randomBytes(16).toString('base64url'),
      hls_vod: bit(input.recording?.hls_vod ?? dest.recording.hlsVod),
      single_file_per_layer: bit(input.recording?.single_file_per_layer ?? dest.recording.singleFilePerLayer),
      layers: toJson(dest.layers),
      recording_layers: dest.recording.layers?.length ? toJson(dest.recording.layers) : null,
      playlist_type: dest.playlistType,
      num_playlist_segments: dest.numPlaylistSegments,
      video_frame_rate: dest.videoFrameRate,
      metadata_insertion: bit(dest.enableMetadataInsertion),
      recording_paused: 0,
    });
  }

  /** The stream, which must be running for the request to act on it. */
  private async runningStream(id: string): Promise<LiveStreamTable> {
    const r = await this.get(id);
    if (!r) throw notFound('live stream', id);
    if (r.status !== 'running') throw conflict('Live stream is not running', `live stream ${id} is ${r.status}`);
    return r;
  }
  async setRecordingPaused(id: string, paused: boolean): Promise<LiveStreamTable> {
    const r = await this.runningStream(id);
    if (r.hls_vod !== 1 && r.single_file_per_layer !== 1) {
      throw conflict('Live stream is not recorded', `live stream ${id} was started without recording (hls_vod, single_file_per_layer)`);
    }
    if ((r.recording_paused === 1) === paused) {
      throw conflict(paused ? 'Recording already paused' : 'Recording is not paused', `live stream ${id}`);
    }
    const set = { recording_paused: bit(paused), updated_at: rfc3339() };
    if (!(await setLiveStreamRecordingPaused(this.db, id, set))) throw conflict('Live stream is not running', `live stream ${id} stopped meanwhile`);
    return { ...r, ...set };
  }

  /** Stores timed metadata for a running stream; the HLS route shows it to players as EXT-X-DATERANGE. */
  async addTimedMetadata(id: string, payload: string, duration: number): Promise<LiveStreamTable> {
    const r = await this.runningStream(id);
    if (r.metadata_insertion !== 1) {
      throw conflict('Timed metadata is disabled', `destination ${r.destination} of live stream ${id} has enableMetadataInsertion false`);
    }
    await insertTimedMetadata(this.db, { id: objectId(), stream_id: id, payload, duration, created_at: rfc3339() });
    return r;
  }

  // ---- moves reported by the live-stream worker ----

  /** Every layer has playable segments: the stream is running. */
  async markRunning(id: string, startedAt: Date): Promise<LiveStreamTable | null> {
    const r = await this.move(id, 'running', { started_at: startedAt.toISOString() });
    if (!r) return null;
    await this.deps.events.emit('hls.started.success', r.room_id, {
      ...(await hlsEventBase(this.db, this.deps.config.publicUrl, r)),
      start_delay: this.startDelay(r, startedAt),
      state_name: 'HLSStarted',
      state_timestamp: startedAt.toISOString(),
    });
    return r;
  }

  /**
   * The worker finished (asked to, or it crashed): store the assets it made, close the stream as completed
   * or failed with the error type, and emit hls.stopped.success / hls.recording.success / hls.failure.
   */
  async finish(id: string, outcome: LiveStreamOutcome): Promise<LiveStreamTable | null> {
    const vod = outcome.vod && { ...outcome.vod, asset: await this.forUpload(outcome.vod.asset) };
    const singleFiles: SingleFileOutcome[] = [];
    for (const f of outcome.singleFiles) singleFiles.push({ ...f, asset: await this.forUpload(f.asset) });
    return this.close(id, [...(vod ? [vod.asset] : []), ...singleFiles.map((f) => f.asset)], { ...outcome, vod, singleFiles });
  }

  protected nothingCaptured(ending: JobEnding): LiveStreamOutcome {
    return { ...ending, vod: null, singleFiles: [], duration: 0 };
  }

  protected async closeEvents(_before: LiveStreamTable, after: LiveStreamTable, reason: string, failed: boolean, outcome: LiveStreamOutcome): Promise<void> {
    const base = await hlsEventBase(this.db, this.deps.config.publicUrl, after);
    const duration = Math.round(outcome.duration);
    const stoppedAt = outcome.stoppedAt.toISOString();
    if (after.started_at) {
      await this.deps.events.emit('hls.stopped.success', after.room_id, {
        ...base,
        duration,
        stopped_at: stoppedAt,
        reason,
        live_transcription_enabled: false,
        state_name: 'HLSStopped',
        state_timestamp: stoppedAt,
      });
    }
    const vod = outcome.vod?.asset.status === 'completed' ? outcome.vod : null;
    const files = outcome.singleFiles.filter((f) => f.asset.status === 'completed');
    // With the room's own bucket the assets are uploaded first and hls.recording.success follows the upload
    // with the bucket's paths (domain/uploadEvents.ts); without one it goes out here with this server's.
    const uploading = [...(vod ? [vod.asset] : []), ...files.map((f) => f.asset)].some((a) => a.upload_state === 'pending');
    if ((vod || files.length) && !uploading) {
      await this.deps.events.emit('hls.recording.success', after.room_id, hlsRecordingSuccessData(after, base, { vod, singleFiles: files, duration, stoppedAt }));
    }
    if (failed) {
      await this.deps.events.emit(
        'hls.failure',
        after.room_id,
        hlsFailureData(base, { message: redactOptional(outcome.errorMessage) ?? outcome.errorType, type: outcome.errorType, at: stoppedAt, duration }),
      );
    }
  }
}
