// The recorder worker: takes egress jobs (recordings and live streams alike) from the queue, runs one capture
// per job (by default in its own handler process, recorder/handlerClient.ts), reports each step to the job's resource (recorder/jobKinds.ts), and turns what was captured into
// assets through the job's outputs (recorder/outputs/) — also when the capture crashed, and also after a
// restart found a job whose worker died (its files are still in the job's work and live dirs).
import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { availableParallelism, hostname } from 'node:os';
import type { Config } from '../config.js';
import type { Logger } from '../logger.js';
import type { JobQueue, MachineReport, QueuedJob } from '../jobs/queue.js';
import { Admission, jobCostCores } from './admission.js';
import { redactedError } from '../redact.js';
import { recorderAllowedHosts } from '../domain/meetingUrl.js';
import { JOIN_ATTEMPTS, type ErrorType } from '../domain/recordingJob.js';
import { recorderJoinUrl } from '../domain/recorderAccess.js';
import { redactOptional, redactSecrets } from '../redact.js';
import { JobLoop } from './jobLoop.js';
import { recordJobProcesses, stopLeftoverProcesses } from './leftovers.js';
import { launchInHandler } from './handlerClient.js';
import { ffmpegMediaTools, type MediaTools } from './mediaTools.js';
import { encodedOutputOf, type Capture, type CaptureSpec, type HlsLiveOutput, type JobSpec, type LaunchCapture } from './jobSpec.js';
import { liveOutputOf, finaliseOutputs, openAssetsOf } from './outputs/index.js';
import { isDiskFullText, type DiskSpace } from '../storage/diskSpace.js';
import { insertAsset, settleOpenAssets } from '../store/openAssets.js';
import { recordGap, type CaptureGap } from './outputs/gaps.js';
import type { OutputDeps } from './outputs/finalise.js';
import { hlsReady, pruneLiveWindow, streamSeconds } from './outputs/hlsLive.js';
import type { PausedSpan } from './outputs/finalise.js';
import { recordingJobs, liveStreamJobs, type EgressJobKindAdapter, type JobKindDeps, type JobView } from './jobKinds.js';
import type { NodeRegistry } from '../fleet/nodeRegistry.js';
import { hostPortOf } from '../domain/allowedHosts.js';
import { removeParts, type PartsPlace } from '../storage/parts.js';
import { describeStoreError } from '../storage/index.js';
import { PartStreamer, restoreParts } from './streamedParts.js';
import { StrandedAssets } from './strandedAssets.js';
import { localNodeId, type UploadManager } from '../storage/uploads.js';
import { LiveMirror, restoreLivePlaylists, restoreLiveSegments } from './liveMirror.js';
import { attemptNumber } from './outputs/gaps.js';
import { readdirSync } from 'node:fs';
import { CaptureCalibrator, calibrationFile, calibrationWorkDir, type CaptureCalibration } from './calibration.js';

const POLL_MS = 300;
/** from launch to running (first frame; for a ladder, a playable segment in every layer) */
const START_TIMEOUT_MS = 90_000;
/** players still fetching the last segments after a stop get them for this long */
const LIVE_DIR_GRACE_MS = 30_000;

/** relaunches of a crashed capture per job, for as long as the job runs */
const MAX_RELAUNCHES = 3;
/** a recorder machine reports itself this often; a report lives 3 periods (gone: the machine stopped or died) */
const ANNOUNCE_MS = 5000;
const ANNOUNCE_TTL_MS = 3 * ANNOUNCE_MS;
/** how long the last send to the store may take at a stop, and at a hand-over (which needs it) */
const FLUSH_AT_STOP_MS = 2000;
const FLUSH_HANDOVER_MS = 10_000;
/** after the drain timeout, how long the jobs still running get to hand themselves over */
const HANDOVER_WAIT_MS = 60_000;

type Ending = { errorType?: ErrorType; errorMessage?: string };
type PlannedJob = NonNullable<Awaited<ReturnType<EgressJobKindAdapter['specOf']>>>;

/** The capture the job started with, its attempt number, and how to launch another attempt. */
interface Launched {
  capture: Capture;
  attempt: number;
  launch: (attempt: number, relaunchesLeft: number) => Promise<Capture>;
  /**
   * a takeover goes on with a job that already runs: no start to mark, the gap since its machine died, the live
   * segments the store has (not sent again), and the segment files still being brought back (awaited at the end)
   */
  takenOver?: { gap: Omit<CaptureGap, 'resumedAt'>; inStore?: string[]; restoring?: Promise<unknown> };
}

/** What goes to the store while the job runs: the MP4's parts (PartStreamer) or the live ladder (LiveMirror). */
interface Streamer {
  tick(): void;
  flush(timeoutMs?: number): Promise<boolean>;
  close(): Promise<void>;
  /** live segments deleted on disk */
  prune?(gone: string[]): void;
}

/** What the worker follows of one capture: its crash and first frame, as they happen. */
interface Watched {
  capture: Capture;
  /** its work sub-directory ("attempt-2") */
  attempt: string;
  crash: { reason: string; at: number } | null;
  firstFrameAt: Date | null;
  /** its encoder restarts already counted */
  restartsSeen: number;
}

function watch(capture: Capture, attempt: number): Watched {
  const w: Watched = { capture, attempt: `attempt-${attempt}`, crash: null, firstFrameAt: null, restartsSeen: 0 };
  void capture.crashed.then((reason) => (w.crash = { reason, at: Date.now() }));
  capture.firstFrame.then((at) => (w.firstFrameAt = at)).catch(() => undefined);
  return w;
}

/** A job's relaunches so far: the last attempt number, how many, the gap not yet closed, the last launch error. */
interface RelaunchState {
  attempt: number;
  count: number;
  gap: Omit<CaptureGap, 'resumedAt'> | null;
  error: string;
  /** the job was asked to stop (or auto-stopped): a crash on the way is no failure, the time since it a gap */
  stopped: boolean;
}

/** What the worker is built with (server.ts): the queue, the resources' services, where files go. */
export interface EgressWorkerDeps extends JobKindDeps, OutputDeps {
  config: Config;
  log: Logger;
  queue: JobQueue;
  /** where a job streams its recording while it records (its room's store; none: this disk keeps it), and a fleet's live streams theirs */
  uploads: Pick<UploadManager, 'partsPlace' | 'livePlace' | 'schedule'>;
  /** a fleet's nodes: the recorder joins the room on the node it lives on */
  nodes: Pick<NodeRegistry, 'placeRoom' | 'nodes'> | null;
  /** room on the data disk: a job ends as DISK_FULL below its floor; writes refused for space are retried */
  disk: DiskSpace;
}

export class EgressWorker {
  private readonly kinds: Record<EgressJobKindAdapter['kind'], EgressJobKindAdapter>;
  private readonly loop: JobLoop;
  private stopped = false;
  /** the drain timed out: recordings that stream to a store go back to the queue for another machine */
  private handingOver = false;
  /** live outputs removed after a grace (their dir here, their copy in a fleet's store) */
  private readonly cleanups = new Map<NodeJS.Timeout, () => Promise<void>>();
  private readonly calibrator: CaptureCalibrator;
  private readonly admission: Admission;
  private announcer: NodeJS.Timeout | null = null;

  constructor(
    private readonly deps: EgressWorkerDeps,
    private readonly launch: LaunchCapture = launchInHandler,
    private readonly media: MediaTools = ffmpegMediaTools,
    private readonly concurrency = deps.config.recorderWorkers,
  ) {
    this.kinds = { recording: recordingJobs(deps), 'live-stream': liveStreamJobs(deps) };
    // recordings and live streams on this machine share one limit
    this.admission = new Admission({ cores: availableParallelism(), maxUtilization: deps.config.maxCpuUtilization, maxJobs: concurrency });
    this.loop = new JobLoop(
      { queue: deps.queue, log: deps.log, takeoverMs: deps.config.recorderTakeoverMs, admission: this.admission, costOf: (job) => this.costOf(job) },
      { recording: (job) => this.runJob(job), 'live-stream': (job) => this.runJob(job) },
      concurrency,
    );
    this.calibrator = new CaptureCalibrator({
      file: calibrationFile(deps.config.dataDir),
      workDir: calibrationWorkDir(deps.config.dataDir),
      fixedMs: deps.config.recorderAudioOffsetMs,
      logger: deps.log,
    });
  }

  /** CPU cores this machine may still give to new jobs (MAX_CPU_UTILIZATION minus what its jobs are measured to use) */
  freeCores(): number {
    return this.concurrency > 0 ? this.admission.freeCores(this.loop.runningCosts()) : 0;
  }

  /** A job's measured cost: its kind, and a composite's size. */
  private async costOf(job: QueuedJob): Promise<number> {
    const planned = await this.kinds[job.kind].specOf(job.jobId);
    return jobCostCores(job.kind, planned?.size);
  }

  start(): void {
    this.loop.start();
    if (this.concurrency <= 0) return;
    // a machine that records measures its capture offset once (in the background; jobs before that use 0)
    void this.calibrator.start();
    // and says what it runs and can still take (a fleet's `roomcast status`), until it stops
    const stranded = this.deps.config.redisUrl ? new StrandedAssets({ ...this.deps, media: this.media, storageNode: localNodeId(this.deps) }) : null;
    const announce = () => {
      void this.deps.queue.announce(this.report(), ANNOUNCE_TTL_MS).catch((err) => this.deps.log.warn({ err: redactedError(err) }, 'could not announce this recorder machine'));
      // in a fleet: recordings whose machine died before their upload are rebuilt here from their parts
      void stranded?.sweep().catch((err) => this.deps.log.warn({ err: redactedError(err) }, 'could not look for stranded assets'));
    };
    announce();
    this.announcer = setInterval(announce, ANNOUNCE_MS);
  }

  /** What this machine runs and can still take. */
  report(): MachineReport {
    return {
      id: this.loop.workerId,
      host: hostname(),
      pid: process.pid,
      recorders: this.concurrency,
      running: this.loop.runningKinds().length,
      cores: availableParallelism(),
      freeCores: this.loop.isDraining ? 0 : Math.round(this.freeCores() * 100) / 100,
      draining: this.loop.isDraining,
      storageNode: localNodeId(this.deps),
      at: new Date().toISOString(),
    };
  }

  /** The capture offset jobs use now, and the measurement behind it (null: fixed by configuration, or not yet measured). */
  captureCalibration(): { audioOffsetMs: number; measured: CaptureCalibration | null } {
    return { audioOffsetMs: this.calibrator.audioOffsetMs(), measured: this.calibrator.current() };
  }

  /**
   * SIGTERM on a recorder machine: takes no more jobs and lets those it runs end on their own for up to
   * `timeoutMs` (DRAIN_TIMEOUT_SECONDS); then stop() ends the rest, keeping what they captured.
   */
  async drain(timeoutMs: number): Promise<void> {
    const running = this.loop.runningKinds().length;
    this.deps.log.info({ running, timeoutSeconds: Math.round(timeoutMs / 1000) }, 'draining: no new jobs, running ones may finish');
    if (this.concurrency > 0) void this.deps.queue.announce(this.report(), ANNOUNCE_TTL_MS).catch(() => undefined);
    if (await this.loop.drain(timeoutMs)) return;
    // hand-over: a recording whose parts are in its store stops here and another machine goes on with it
    // (takeOver); the others end now (stop()), keeping what they captured
    this.deps.log.warn({ running: this.loop.runningKinds().length }, 'drain timeout: handing recordings over to other machines, ending the other jobs');
    this.handingOver = true;
    await this.loop.drain(HANDOVER_WAIT_MS);
  }

  /** Stops taking work; jobs in hand are ended and what they captured kept. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.announcer) clearInterval(this.announcer);
    await Promise.all([this.loop.stop(), this.calibrator.close()]);
    // pending live-dir removals happen now rather than never
    const pending = [...this.cleanups];
    this.cleanups.clear();
    for (const [t, remove] of pending) {
      clearTimeout(t);
      await remove();
    }
  }

  private workDir(id: string): string {
    return join(this.deps.config.dataDir, 'work', id);
  }

  readonly runJob = async (job: QueuedJob): Promise<void | 'handedOver'> => {
    const kind = this.kinds[job.kind];
    const log = this.deps.log.child(job.kind === 'recording' ? { recordingId: job.jobId } : { streamId: job.jobId });
    const r = await kind.get(job.jobId);
    const planned = await kind.specOf(job.jobId);
    if (!r || !planned) return;
    const { spec } = planned;
    if (r.status === 'stopping' && !r.started_at && job.attempts === 1) {
      // stopped before any worker took it
      await this.finalize(kind, spec, r, [], { errorType: 'BEAM_STOPPED', errorMessage: `stop requested before the ${kind.label} started` }, log);
      return;
    }
    if (r.status !== 'starting') {
      if (r.status === 'running' || r.status === 'stopping' || r.status === 'post_processing') return this.takeOver(job, kind, planned, r, log);
      return;
    }
    const dir = this.workDir(r.id);
    mkdirSync(dir, { recursive: true });
    const live = liveOutputOf(spec);
    // each attempt (a join retry, or a relaunch after a crash) captures into its own directory; it may start its
    // encoder again itself as often as the job has relaunches left
    const launchAttempt = (attempt: number, relaunchesLeft: number): Promise<Capture> =>
      this.launchCapture(job, r, planned, { workDir: join(dir, `attempt-${attempt}`), encoderRestarts: relaunchesLeft }, log);
    let capture: Capture | null = null;
    let launched = 0;
    let lastError = '';
    for (let attempt = 1; attempt <= JOIN_ATTEMPTS && !capture; attempt++) {
      if ((await kind.get(r.id))?.status !== 'starting') break;
      if (live) {
        // a fresh output dir per attempt: players must never see two encoders' segments
        rmSync(live.dir, { recursive: true, force: true });
        mkdirSync(live.dir, { recursive: true });
      }
      try {
        capture = await launchAttempt(attempt, MAX_RELAUNCHES);
        launched = attempt;
      } catch (err) {
        lastError = redactSecrets(err instanceof Error ? err.message : String(err));
        log.warn({ attempt, err: lastError }, `the recorder of the ${kind.label} could not join`);
      }
    }
    if (!capture) {
      const now = await kind.get(r.id);
      if (now?.status === 'stopping') await this.finalize(kind, spec, now, [], { errorType: 'BEAM_STOPPED', errorMessage: `stop requested before the ${kind.label} started` }, log);
      else await this.finalize(kind, spec, r, [], { errorType: 'MAX_RETRIES_REACHED', errorMessage: `recorder could not join the meeting after ${JOIN_ATTEMPTS} attempts: ${lastError}` }, log);
      return;
    }
    return this.follow(kind, spec, r, { capture, attempt: launched, launch: launchAttempt }, log, await this.storePlaceOf(spec, r, log));
  };

  /**
   * A job whose worker died mid-job: what it left running here is stopped, and what it streamed to the store
   * is brought into this machine's work dir (a live stream: its playlists into its live dir). A job still
   * running that was recorded on another machine (the store had more of it than this disk) goes on into a next
   * attempt, the time in between a gap of the asset (of the live playlists: a discontinuity); otherwise the job
   * ends with what was kept.
   */
  private async takeOver(job: QueuedJob, kind: EgressJobKindAdapter, planned: PlannedJob, r: JobView, log: Logger): Promise<void | 'handedOver'> {
    const { spec } = planned;
    const dir = this.workDir(r.id);
    const diedAt = Date.now();
    const stopped = await stopLeftoverProcesses(dir);
    const place = await this.storePlaceOf(spec, r, log);
    const live = liveOutputOf(spec);
    const going = r.status === 'running' && !this.stopped;
    const restored = place ? await this.restore(place, dir, live, going).catch((err) => void log.warn({ err: describeStoreError(err) }, 'could not read the job\'s copy in its store')) : undefined;
    log.warn({ status: r.status, leftoverProcesses: stopped, restored: restored && { ...restored, inStore: restored.inStore?.length } }, `taking over a ${kind.label} whose worker died or handed it over`);
    if (going && restored && restored.segments > 0) {
      mkdirSync(dir, { recursive: true });
      const next = Math.max(restored.lastAttempt, ...readdirSync(dir).map(attemptNumber).filter((n) => !Number.isNaN(n))) + 1;
      const launch = (attempt: number, relaunchesLeft: number): Promise<Capture> =>
        this.launchCapture(job, r, planned, { workDir: join(dir, `attempt-${attempt}`), encoderRestarts: relaunchesLeft }, log);
      try {
        const capture = await launch(next, MAX_RELAUNCHES);
        const gap = { attempt: `attempt-${next}`, segment: 0, crashedAt: diedAt, reason: 'the recorder machine stopped; another recorder took the job over' };
        log.warn({ attempt: next, restoredBytes: restored.bytes }, `going on with the ${kind.label} taken over`);
        // the recording of a live stream is made of its segments: those encoded elsewhere come here meanwhile
        const restoring = live && place && !live.prunable ? restoreLiveSegments(place, live, restored.inStore ?? []) : undefined;
        return await this.follow(kind, spec, r, { capture, attempt: next, launch, takenOver: { gap, inStore: restored.inStore, restoring } }, log, place);
      } catch (err) {
        log.warn({ err: redactSecrets(err instanceof Error ? err.message : String(err)) }, `could not go on with the ${kind.label} taken over; ending it with what was kept`);
      }
    }
    if (live && place && restored?.inStore) await restoreLiveSegments(place, live, restored.inStore).catch((err) => log.warn({ err: describeStoreError(err) }, 'could not bring the live segments back from the store'));
    await this.finalize(kind, spec, r, [], { errorType: 'INTERNAL_ERROR', errorMessage: `recorder restarted during the ${kind.label}` }, log, place);
  }

  /** The job's copy in its store brought here: an MP4's segments into the work dir, a live stream's playlists into its live dir. */
  private async restore(place: PartsPlace, dir: string, live: HlsLiveOutput | undefined, going: boolean): Promise<{ segments: number; bytes: number; lastAttempt: number; inStore?: string[] }> {
    if (!live) return restoreParts(place, dir);
    // a job going on appends to the playlists: what this disk has of them is older than the store's
    if (going) rmSync(live.dir, { recursive: true, force: true });
    const inStore = await restoreLivePlaylists(place, live);
    return { segments: inStore.length, bytes: 0, lastAttempt: 0, inStore };
  }

  /**
   * Where the job's output goes while it runs: an MP4's parts in its room's store; a live ladder in it too in a
   * fleet (any node serves it from there). Null: none (or it cannot be reached: the job runs all the same).
   */
  private async storePlaceOf(spec: JobSpec, r: JobView, log: Logger): Promise<PartsPlace | null> {
    const live = liveOutputOf(spec) !== undefined;
    if (live && !this.deps.config.redisUrl) return null;
    try {
      return await (live ? this.deps.uploads.livePlace(r.room_id, r.id) : this.deps.uploads.partsPlace(r.room_id, r.id));
    } catch (err) {
      log.warn({ err: describeStoreError(err) }, `no store to send the ${live ? 'live stream' : 'recording'} to while it runs`);
      return null;
    }
  }

  /** One capture of the job into `workDir`, with a fresh short-lived join token (only needed until the page joined). */
  private async launchCapture(job: QueuedJob, r: JobView, planned: PlannedJob, where: Pick<CaptureSpec, 'workDir' | 'encoderRestarts'>, log: Logger): Promise<Capture> {
    const { meetingUrl, publicUrl } = await this.meetingOnRoomNode(r, log);
    const config = { ...this.deps.config, publicUrl };
    const captureSpec: CaptureSpec = {
      url: await recorderJoinUrl(config, { id: r.id, kind: job.kind, roomId: r.room_id, meetingUrl }),
      allowedHosts: recorderAllowedHosts(config),
      joinTimeoutMs: this.deps.config.recorderJoinTimeoutMs,
      audioOffsetMs: this.calibrator.audioOffsetMs(),
      size: planned.size,
      fps: planned.fps,
      audioOnly: planned.audioOnly,
      ...where,
      output: encodedOutputOf(planned.spec),
    };
    return this.launch(captureSpec, log);
  }

  /**
   * In a fleet, our own meeting page is opened on the node the room lives on (placed there now if it is on none),
   * which then counts as this machine's own server (its join token, its host allowed); a page of elsewhere is
   * opened as given.
   */
  private async meetingOnRoomNode(r: JobView, log: Logger): Promise<{ meetingUrl: string; publicUrl: string }> {
    const given = { meetingUrl: r.meeting_url, publicUrl: this.deps.config.publicUrl };
    if (!this.deps.nodes) return given;
    const u = new URL(r.meeting_url);
    if (!u.pathname.startsWith(`/preview/${r.room_id}/`)) return given;
    try {
      const node = await this.deps.nodes.placeRoom(r.room_id);
      if (!node) return given;
      const at = new URL(node.url);
      // only our own page moves: one on a host the fleet does not know stays where it is
      const fleetHosts = [this.deps.config.publicUrl, ...(await this.deps.nodes.nodes()).map((n) => n.url)].map(hostPortOf);
      if (!fleetHosts.includes(hostPortOf(u.toString()))) return given;
      u.protocol = at.protocol;
      u.host = at.host;
      return { meetingUrl: u.toString(), publicUrl: node.url };
    } catch (err) {
      log.warn({ err: err instanceof Error ? err.message : String(err) }, 'no room placement from the fleet; the recorder opens the meeting URL as given');
      return given;
    }
  }

  /**
   * Runs the capture until a stop request, the start timeout or this worker shutting down. A capture that
   * crashes (Chromium, ffmpeg, Xvfb, PulseAudio or its handler process died) is relaunched into the next
   * attempt's directory while the job was not asked to stop, up to MAX_RELAUNCHES times (an MP4 into a new
   * segment, a live ladder into the same playlists); then the job ends failed, named after the crash.
   */
  private async follow(kind: EgressJobKindAdapter, spec: JobSpec, r: JobView, first: Launched, log: Logger, place: PartsPlace | null): Promise<void | 'handedOver'> {
    const dir = this.workDir(r.id);
    const live = liveOutputOf(spec);
    let cur = watch(first.capture, first.attempt);
    const relaunch: RelaunchState = { attempt: first.attempt, count: 0, gap: first.takenOver?.gap ?? null, error: '', stopped: false };
    const streamer: Streamer | null = !place ? null : live ? new LiveMirror(place, live, log, first.takenOver?.inStore) : new PartStreamer(place, dir, log);
    let recordedProcesses = '';
    const recordProcesses = () => {
      const key = JSON.stringify(cur.capture.processes());
      if (key === recordedProcesses) return;
      recordJobProcesses(dir, cur.capture.processes());
      recordedProcesses = key;
    };
    recordProcesses();
    let launchedAt = Date.now();
    const pauses: PausedSpan[] = [];
    const pruned: number[] = [];
    let running = first.takenOver !== undefined;
    let paused = false;
    let ending: Ending = {};
    let handingOver = false;
    /** the relaunched capture shows the meeting again: the gap is known */
    const closeGap = (at: number) => {
      if (relaunch.gap) recordGap(dir, { ...relaunch.gap, resumedAt: at });
      relaunch.gap = null;
    };
    /** the capture's own encoder restarts: gaps too, and relaunches of the job's budget */
    const countRestarts = () => {
      const restarts = cur.capture.restarts?.() ?? [];
      for (; cur.restartsSeen < restarts.length; cur.restartsSeen++) {
        const { segment, crashedAt, resumedAt, reason } = restarts[cur.restartsSeen];
        recordGap(dir, { attempt: cur.attempt, segment, crashedAt, resumedAt, reason });
        relaunch.count++;
        log.warn({ reason, relaunch: relaunch.count }, `the ${kind.label}'s encoder died and was started again`);
      }
    };
    for (;;) {
      await new Promise((res) => setTimeout(res, POLL_MS));
      if (this.stopped) break;
      if (this.handingOver && streamer && running) {
        handingOver = true;
        break;
      }
      countRestarts();
      const full = this.diskFull(cur.crash?.reason);
      if (full) {
        ending = full;
        break;
      }
      if (cur.crash) {
        // what it left stopped first; its last encoder restarts are known then
        await cur.capture.stop();
        countRestarts();
        const next = await this.relaunch(kind, r, cur, relaunch, first.launch, paused, log);
        if (!next) {
          if (relaunch.stopped && !running) ending = { errorType: 'BEAM_STOPPED', errorMessage: `stop requested before the ${kind.label} started` };
          break;
        }
        cur = next;
        launchedAt = Date.now();
      }
      const now = await kind.get(r.id);
      if (!now || (now.status !== 'starting' && now.status !== 'running')) {
        relaunch.stopped = true;
        if (!running) ending = { errorType: 'BEAM_STOPPED', errorMessage: `stop requested before the ${kind.label} started` };
        break;
      }
      const firstFrameAt = cur.firstFrameAt;
      if (firstFrameAt) closeGap(firstFrameAt.getTime());
      if (!running) {
        const at: Date | null = live ? (hlsReady(live) ? new Date() : null) : firstFrameAt;
        if (at) {
          // a stop that came first wins: the job never ran (the next pass ends it as BEAM_STOPPED)
          running = await this.written('the job running', () => kind.markRunning(r.id, at));
          if (running) {
            // the MP4 has its asset row from the first frame on: whatever happens, its bytes are named
            for (const asset of openAssetsOf(spec, { ctx: this.deps, job: { ...r, started_at: at.toISOString() } })) {
              await this.written('the open asset', () => insertAsset(this.deps.db, asset));
            }
            log.info({ startDelayMs: at.getTime() - Date.parse(r.created_at) }, `${kind.label} running`);
          }
        } else if (Date.now() - launchedAt > START_TIMEOUT_MS) {
          ending = { errorType: 'INTERNAL_ERROR', errorMessage: `the ${kind.label} did not start within ${START_TIMEOUT_MS / 1000} s` };
          break;
        }
      }
      if (now.paused !== paused) {
        paused = now.paused;
        if (paused) {
          pauses.push({ from: Date.now(), to: null });
          await cur.capture.pause();
        } else {
          pauses[pauses.length - 1].to = Date.now();
          // a capture relaunched while paused starts its picture now
          closeGap(Date.now());
          await cur.capture.resume();
        }
      }
      // a resume's new encoder, a relaunch, or a handler reporting its processes late: a takeover must find them
      recordProcesses();
      if (live) {
        // (pruned whether or not a store has a copy to prune too)
        const gone = pruneLiveWindow(live, pruned);
        streamer?.prune?.(gone);
      }
      streamer?.tick();
    }
    await streamer?.close();
    await cur.capture.stop();
    countRestarts();
    // a crash as the job was being stopped is no failure: from it on, time is missing
    if (cur.crash && relaunch.stopped) relaunch.gap ??= { crashedAt: cur.crash.at, reason: cur.crash.reason, attempt: `attempt-${relaunch.attempt + 1}`, segment: 0 };
    // a relaunch or takeover that showed no frame before the end: the time since the crash is missing all the same
    closeGap(!cur.crash && cur.firstFrameAt ? cur.firstFrameAt.getTime() : Date.now());
    // all of it goes to the store: a hand-over goes on from there; a live stream's last segments and end reach
    // every node's players; an MP4 whose machine dies before its upload is rebuilt from there (strandedAssets.ts).
    // Only a hand-over waits for a store that is down.
    const flushed = streamer ? await streamer.flush(handingOver ? FLUSH_HANDOVER_MS : FLUSH_AT_STOP_MS) : false;
    if (handingOver && flushed) {
      // the machine that takes the job next goes on from there
      log.warn({ attempt: cur.attempt }, `${kind.label} handed over to another machine`);
      rmSync(dir, { recursive: true, force: true });
      if (live) rmSync(live.dir, { recursive: true, force: true });
      place?.store.close();
      return 'handedOver';
    }
    await first.takenOver?.restoring?.catch((err) => log.warn({ err: describeStoreError(err) }, 'could not bring the live segments back from the store'));
    const open = pauses.at(-1);
    if (open && open.to === null) open.to = Date.now();
    const latest = (await kind.get(r.id)) ?? r;
    // a job stopped before it ran ends as that, also if its capture died on the way out; a full disk says so
    if (cur.crash && !relaunch.stopped && ending.errorType !== 'BEAM_STOPPED' && ending.errorType !== 'DISK_FULL') {
      const after = relaunch.count ? ` (after ${relaunch.count} relaunch${relaunch.count > 1 ? 'es' : ''}${relaunch.error ? `; the last could not start: ${relaunch.error}` : ''})` : '';
      ending = { errorType: 'INTERNAL_ERROR', errorMessage: `recorder failed: ${cur.crash.reason}${after}` };
    } else if ((this.stopped || handingOver) && !ending.errorType) ending = { errorType: 'INTERNAL_ERROR', errorMessage: 'recorder worker shut down' };
    await this.finalize(kind, spec, latest, pauses, ending, log, place);
  }

  /**
   * The crashed capture stopped (what it left is cleared) and a new one launched into the next attempt's
   * directory; null when the job is being stopped, the worker is, or no relaunch is left (`cur` stays the crashed one).
   */
  private async relaunch(kind: EgressJobKindAdapter, r: JobView, crashed: Watched, state: RelaunchState, launch: Launched['launch'], paused: boolean, log: Logger): Promise<Watched | null> {
    const crash = crashed.crash!;
    await crashed.capture.stop();
    // time is missing from the crash until a capture shows the meeting again (or the job ends); a relaunch that
    // crashes before its first frame makes one longer gap
    state.gap = { crashedAt: state.gap?.crashedAt ?? crash.at, reason: state.gap?.reason ?? crash.reason, attempt: `attempt-${state.attempt + 1}`, segment: 0 };
    while (state.count < MAX_RELAUNCHES) {
      const now = await kind.get(r.id);
      if (this.stopped) return null;
      // the job was asked to stop (or its room's last peer left and it auto-stopped): nothing to relaunch for
      if (!now || (now.status !== 'starting' && now.status !== 'running')) {
        state.stopped = true;
        return null;
      }
      state.count++;
      state.attempt++;
      log.warn({ reason: crash.reason, relaunch: state.count, attempt: state.attempt }, `the ${kind.label}'s capture crashed; relaunching it`);
      try {
        const capture = await launch(state.attempt, MAX_RELAUNCHES - state.count);
        if (paused) await capture.pause();
        state.gap = { ...state.gap, attempt: `attempt-${state.attempt}` };
        state.error = '';
        return watch(capture, state.attempt);
      } catch (err) {
        state.error = redactSecrets(err instanceof Error ? err.message : String(err));
        log.warn({ attempt: state.attempt, err: state.error }, `the ${kind.label}'s capture could not be relaunched`);
      }
    }
    return null;
  }

  /** Outputs → assets in storage → the job completed or failed; work dir removed, the live dir after a grace. */
  private async finalize(kind: EgressJobKindAdapter, spec: JobSpec, r: JobView, pauses: PausedSpan[], ending: Ending, log: Logger, place: PartsPlace | null = null): Promise<void> {
    const stoppedAt = new Date();
    let { errorType } = ending;
    let errorMessage = redactOptional(ending.errorMessage);
    if (r.status === 'stopping') await this.written('post-processing', () => kind.move(r.id, 'post_processing'));
    const workDir = this.workDir(r.id);
    // stopped before it started (reference: BEAM_STOPPED): it never ran, so what the capture wrote before its
    // first frame counted is no recording of it — no asset, no success event
    const neverRan = errorType === 'BEAM_STOPPED';
    const { drafts, problems } = neverRan ? { drafts: [], problems: [] } : await finaliseOutputs({
      ctx: this.deps,
      media: this.media,
      spec,
      job: r,
      workDir,
      pauses,
      failure: errorType ? (errorMessage ?? null) : null,
      presignSeconds: await kind.presignSeconds(r.id),
    });
    if (problems.length) {
      // what was captured stays where it is (work dir, live dir): it is the recording
      log.error({ problems: problems.map(redactSecrets) }, `could not build every asset of the ${kind.label}; its files are kept`);
      errorType ??= 'INTERNAL_ERROR';
      errorMessage ??= redactSecrets(`building the ${kind.label} failed: ${problems.join('; ')}`);
    }
    const live = liveOutputOf(spec);
    const duration = live ? streamSeconds(live) : (drafts[0]?.asset.duration ?? 0);
    await this.written(`the ${kind.label}'s end`, () => kind.finish(r.id, { drafts, duration, errorType, errorMessage, stoppedAt }));
    // asset rows opened at the first frame that got no file: gone, or failed naming where the files were kept
    const kept = problems.length ? `the captured files are kept in ${workDir}: ${problems.join('; ')}` : null;
    await this.written('the open assets', () => settleOpenAssets(this.deps.db, r.id, kept && redactSecrets(kept)));
    if (!problems.length) {
      rmSync(workDir, { recursive: true, force: true });
      // parts of a recording that made an MP4 go once that is stored (storage/uploads.ts); of one that made none, now
      if (!live && place && !drafts.some((d) => d.output === 'mp4File')) await removeParts(place).catch(() => undefined);
    }
    if (live && !problems.length) this.removeLater(live.dir, place);
    else place?.store.close();
    log.info({ errorType, duration, assets: drafts.map((d) => d.asset.id) }, `${kind.label} finished`);
  }

  /** A database write of the job, tried again while the disk is full (until the worker stops). */
  private written<T>(what: string, write: () => Promise<T>): Promise<T> {
    return this.deps.disk.retryWhileFull(what, write, () => this.stopped);
  }

  /**
   * The job must end for the data disk: it is below its floor, or the capture died of a full disk (its
   * reason says so). Null when it may go on.
   */
  private diskFull(crashReason: string | undefined): Ending | null {
    const below = this.deps.disk.fullReason();
    const crashed = crashReason !== undefined && isDiskFullText(crashReason);
    if (!below && !crashed) return null;
    const where = below ?? `the data disk is full (DATA_DIR ${this.deps.config.dataDir})`;
    return { errorType: 'DISK_FULL', errorMessage: crashed ? `${where}; ${crashReason}` : where };
  }

  /** The live dir (and its copy in a fleet's store) after a grace period: players of the last segments are not cut off at stop. */
  private removeLater(dir: string, place: PartsPlace | null): void {
    const remove = async () => {
      rmSync(dir, { recursive: true, force: true });
      if (!place) return;
      await removeParts(place).catch((err) => this.deps.log.warn({ err: describeStoreError(err), prefix: place.prefix }, 'could not remove a live stream\'s copy from its store'));
      place.store.close();
    };
    const t = setTimeout(() => {
      this.cleanups.delete(t);
      void remove();
    }, LIVE_DIR_GRACE_MS);
    t.unref();
    this.cleanups.set(t, remove);
  }
}
