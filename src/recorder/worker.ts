// A recorder worker: takes recording jobs from the queue, runs one beam capture per job, reports each step to
// the recording service, and turns what was captured into an asset — also when the capture crashed, and also
// after a restart found a job whose worker died (its files are still in the job's work dir).
import { existsSync, mkdirSync, readdirSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { AppContext } from '../context.js';
import type { Logger } from '../logger.js';
import type { QueuedJob } from '../jobs/queue.js';
import { RecordingService, recorderAllowedHosts } from '../domain/recordingService.js';
import { JOIN_ATTEMPTS, type ErrorType } from '../domain/recordingJob.js';
import { recorderJoinUrl } from '../domain/recorderAccess.js';
import { redactOptional, redactSecrets, redactedError } from '../redact.js';
import { webhookPresignSeconds } from '../domain/templates.js';
import { getTemplate } from '../store/templates.js';
import { objectId, rfc3339 } from '../clock.js';
import { JobLoop } from './jobLoop.js';
import { recordJobProcesses, stopLeftoverProcesses, type JobProcesses } from './leftovers.js';
import { launchBeam } from './beam.js';
import { ffmpegMediaTools, type MediaTools } from './mediaTools.js';
import { toJson } from '../store/db.js';
import type { AssetTable, RecordingTable } from '../store/schema.js';
import { beamKey } from '../storage/local.js';

/** One running capture: a browser showing the meeting, an encoder writing segment files. */
export interface BeamCapture {
  /** resolves when the encoder wrote its first frame */
  firstFrame: Promise<Date>;
  /** resolves if a process of the capture dies on its own (not through stop) */
  crashed: Promise<string>;
  pause(): Promise<void>;
  resume(): Promise<void>;
  /** stops everything; returns the segment files in order (crash-safe fragmented MP4) */
  stop(): Promise<string[]>;
  /** process-group ids of the capture, for a worker that takes the job over after this one died */
  processes(): JobProcesses;
}

export interface BeamLaunchOptions {
  url: string;
  width: number;
  height: number;
  audioOnly: boolean;
  allowedHosts: string[];
  workDir: string;
  joinTimeoutMs: number;
  log: Logger;
}

export type LaunchBeam = (opts: BeamLaunchOptions) => Promise<BeamCapture>;

const POLL_MS = 300;

export class RecorderWorker {
  private readonly service: RecordingService;
  private readonly loop: JobLoop;
  private stopped = false;

  constructor(
    private readonly ctx: AppContext,
    private readonly launch: LaunchBeam = launchBeam,
    private readonly media: MediaTools = ffmpegMediaTools,
    concurrency = ctx.config.recorderWorkers,
  ) {
    this.service = new RecordingService(ctx);
    this.loop = new JobLoop(ctx, { recording: (job) => this.runJob(job) }, concurrency);
  }

  /** Own loop for recordings; a server that also streams can instead put runJob in a shared JobLoop. */
  start(): void {
    this.loop.start();
  }

  /** Stops taking work; recordings in hand are closed and their files kept. */
  async stop(): Promise<void> {
    this.stopped = true;
    await this.loop.stop();
  }

  private workDir(recordingId: string): string {
    return join(this.ctx.config.dataDir, 'work', recordingId);
  }

  readonly runJob = async (job: QueuedJob): Promise<void> => {
    const log = this.ctx.log.child({ recordingId: job.jobId });
    {
      const r = await this.service.get(job.jobId);
      if (!r) return;
      const dir = this.workDir(r.id);
      if (r.status !== 'starting') {
        // Taken over from a worker that died mid-job: keep what it captured.
        if (r.status === 'running' || r.status === 'stopping') {
          const stopped = await stopLeftoverProcesses(this.workDir(r.id));
          log.warn({ status: r.status, leftoverProcesses: stopped }, 'recovering a recording whose worker died');
          await this.finalize(r, existingSegments(dir), 'INTERNAL_ERROR', 'recorder restarted during the recording', log);
        }
        return;
      }
      mkdirSync(dir, { recursive: true });
      let capture: BeamCapture | null = null;
      let lastError = '';
      for (let attempt = 1; attempt <= JOIN_ATTEMPTS && !capture; attempt++) {
        if ((await this.service.get(r.id))?.status !== 'starting') break;
        try {
          // a fresh short-lived token per attempt: it is only needed until the page has joined
          capture = await this.launch({
            url: await recorderJoinUrl(this.ctx, { id: r.id, kind: 'recording', roomId: r.room_id, meetingUrl: r.meeting_url }),
            width: r.width,
            height: r.height,
            audioOnly: r.audio_only === 1,
            allowedHosts: recorderAllowedHosts(this.ctx),
            workDir: join(dir, `attempt-${attempt}`),
            joinTimeoutMs: this.ctx.config.recorderJoinTimeoutMs,
            log,
          });
        } catch (err) {
          lastError = redactSecrets(err instanceof Error ? err.message : String(err));
          log.warn({ attempt, err: lastError }, 'recorder could not join');
        }
      }
      if (!capture) {
        const now = await this.service.get(r.id);
        if (now?.status === 'stopping') {
          await this.finalize(now, [], 'BEAM_STOPPED', 'stop requested before the recorder started', log);
        } else {
          await this.finalize(r, [], 'MAX_RETRIES_REACHED', `recorder could not join the meeting after ${JOIN_ATTEMPTS} attempts: ${lastError}`, log);
        }
        return;
      }
      await this.capture(r, capture, log);
    }
  };

  private async capture(r: RecordingTable, capture: BeamCapture, log: Logger): Promise<void> {
    const dir = this.workDir(r.id);
    recordJobProcesses(dir, capture.processes());
    let crashReason: string | null = null;
    void capture.crashed.then((reason) => {
      crashReason = reason;
    });
    let started = false;
    void capture.firstFrame.then(async (at) => {
      started = true;
      await this.service.markRunning(r.id, at);
      log.info({ startDelayMs: at.getTime() - Date.parse(r.created_at) }, 'recording running');
    });
    let paused = false;
    let stopBeforeStart = false;
    // Wait for a stop request, a crash, or this worker shutting down.
    for (;;) {
      await new Promise((res) => setTimeout(res, POLL_MS));
      if (crashReason || this.stopped) break;
      const now = await this.service.get(r.id);
      if (!now || now.status === 'stopping' || now.status === 'failed' || now.status === 'completed') {
        stopBeforeStart = !started;
        break;
      }
      if (now.paused === 1 && !paused) {
        await capture.pause();
        paused = true;
      } else if (now.paused === 0 && paused) {
        await capture.resume();
        paused = false;
        recordJobProcesses(dir, capture.processes());
      }
    }
    const segments = await capture.stop();
    const latest = (await this.service.get(r.id)) ?? r;
    if (crashReason) {
      await this.finalize(latest, segments, 'INTERNAL_ERROR', `recorder failed: ${crashReason}`, log);
    } else if (stopBeforeStart) {
      await this.finalize(latest, segments, 'BEAM_STOPPED', 'stop requested before the recorder started', log);
    } else if (this.stopped) {
      await this.finalize(latest, segments, 'INTERNAL_ERROR', 'recorder worker shut down', log);
    } else {
      await this.finalize(latest, segments, undefined, undefined, log);
    }
  }

  /** Segments → one MP4 in storage → asset row → recording completed or failed. */
  private async finalize(r: RecordingTable, segments: string[], errorType: ErrorType | undefined, errorMessage: string | undefined, log: Logger): Promise<void> {
    const stoppedAt = new Date();
    errorMessage = redactOptional(errorMessage);
    const usable = segments.filter((f) => existsSync(f) && statSync(f).size > 0);
    let asset: AssetTable | null = null;
    let presignedUrl: string | null = null;
    if (usable.length > 0) {
      try {
        const dir = this.workDir(r.id);
        let file = usable[0];
        if (usable.length > 1) {
          file = join(dir, 'joined.mp4');
          await this.media.joinSegments(usable, file);
        }
        const duration = await this.media.durationOf(file);
        const startedMs = Date.parse(r.started_at ?? r.created_at);
        const prefix = this.ctx.customerId;
        const key = beamKey(prefix, r.room_id, startedMs);
        const { size } = this.ctx.localStorage.put(key, file);
        asset = {
          id: objectId(),
          job_id: r.id,
          room_id: r.room_id,
          session_id: r.session_id,
          type: 'room-composite',
          status: 'completed',
          path: this.ctx.localStorage.pathOf(key),
          storage: 'local',
          storage_key: key,
          size,
          duration: Math.round(duration),
          metadata: toJson({
            resolution: { width: r.width, height: r.height },
            ...(errorType ? { partial: true, reason: errorMessage } : {}),
          }),
          thumbnails: null,
          error_message: errorType ? errorMessage ?? null : null,
          created_at: rfc3339(),
          deleted_at: null,
        };
        // the webhook's URL lives as long as the recording config's presignDuration
        const room = await this.ctx.store.db.selectFrom('rooms').select('template_id').where('id', '=', r.room_id).executeTakeFirst();
        const template = room ? await getTemplate(this.ctx.store.db, room.template_id) : null;
        presignedUrl = this.ctx.localStorage.presign(key, webhookPresignSeconds(template)).url;
      } catch (err) {
        // keep the segments in the work dir: they are the recording
        log.error({ err: redactedError(err) }, 'could not assemble the recording; segments kept in the work dir');
        errorType = errorType ?? 'INTERNAL_ERROR';
        errorMessage = errorMessage ?? redactSecrets(`assembling the recording failed: ${err instanceof Error ? err.message : String(err)}`);
        asset = null;
      }
    }
    await this.service.finish(r.id, { asset, presignedUrl, errorType, errorMessage, stoppedAt });
    if (asset) rmSync(this.workDir(r.id), { recursive: true, force: true });
    log.info({ errorType, asset: asset?.id, duration: asset?.duration, size: asset?.size }, 'recording finished');
  }
}

/** Segment files a dead worker left, in the order they were written. */
function existingSegments(dir: string): string[] {
  if (!existsSync(dir)) return [];
  const out: string[] = [];
  for (const attempt of readdirSync(dir).sort()) {
    const d = join(dir, attempt);
    if (!statSync(d).isDirectory()) continue;
    for (const f of readdirSync(d).filter((n) => n.endsWith('.mp4')).sort()) out.push(join(d, f));
  }
  return out;
}
