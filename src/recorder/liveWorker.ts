// The live-stream worker: takes 'live-stream' jobs, runs one capture per stream writing the HLS ladder into
// DATA_DIR/live/<stream_id>/, marks the stream running once every layer has a playable segment, follows
// stop and pause-recording requests, and after the stream builds its recordings from the segments without
// re-encoding: a room-vod asset (VOD playlists of every recorded layer + master) and/or one room-composite
// MP4 per recorded layer. Also when the capture crashed, and after a restart found a stream whose worker died.
import { existsSync, linkSync, copyFileSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import type { AppContext } from '../context.js';
import type { Logger } from '../logger.js';
import type { QueuedJob } from '../jobs/queue.js';
import { LiveStreamService, type LiveStreamOutcome, type SingleFileOutcome } from '../domain/liveStreamService.js';
import { recorderAllowedHosts } from '../domain/recordingService.js';
import { JOIN_ATTEMPTS, type ErrorType } from '../domain/recordingJob.js';
import { webhookPresignSeconds, type HlsLayer } from '../domain/templates.js';
import { getTemplate } from '../store/templates.js';
import { filterMaster, parseMediaPlaylist, vodPlaylist, withDateRanges, type MediaPlaylist, type PlaylistSegment } from '../domain/hlsPlaylists.js';
import { recorderJoinUrl } from '../domain/recorderAccess.js';
import { redactOptional, redactSecrets } from '../redact.js';
import { objectId, rfc3339 } from '../clock.js';
import { toJson } from '../store/db.js';
import type { AssetTable, LiveStreamTable } from '../store/schema.js';
import { layersOf, recordedLayersOf, timedMetadataOf } from '../store/liveStreams.js';
import { hlsLayerFileKey, hlsVodKeyDir, liveOutputDir, VodUrlSigner } from '../storage/live.js';
import { launchLiveBeam, type LaunchLiveBeam, type LiveCapture } from './liveBeam.js';
import { JobLoop } from './jobLoop.js';
import { recordJobProcesses, stopLeftoverProcesses } from './leftovers.js';
import { ffmpegMediaTools, type MediaTools } from './mediaTools.js';

export const SEGMENT_SECONDS = 2;
const POLL_MS = 500;
/** from launch to a playable segment in every layer */
const START_TIMEOUT_MS = 90_000;
/** players still fetching the last segments after a stop get them for this long */
const LIVE_DIR_GRACE_MS = 30_000;
/** `live` streams without recording keep this many segments beyond the window on disk (late players) */
const PRUNE_MARGIN = 5;

/** Directory (and variant) name of each layer: "720p", or "1280x720" when two layers share a height. */
export function layerNames(layers: HlsLayer[]): string[] {
  const heights = layers.map((l) => l.height);
  return layers.map((l) => (heights.filter((h) => h === l.height).length > 1 ? `${l.width}x${l.height}` : `${l.height}p`));
}

interface Pause {
  from: number;
  to: number | null;
}

function inPause(s: PlaylistSegment, pauses: Pause[]): boolean {
  if (s.programDateTime === null) return false;
  const mid = s.programDateTime + (s.duration * 1000) / 2;
  return pauses.some((p) => mid >= p.from && mid < (p.to ?? Infinity));
}

function readPlaylist(file: string): MediaPlaylist {
  try {
    return parseMediaPlaylist(readFileSync(file, 'utf8'));
  } catch {
    return { header: [], segments: [], ended: false };
  }
}

/** A hard link (same filesystem: no copy of the bytes), else a copy. */
function linkOrCopy(from: string, to: string): void {
  mkdirSync(dirname(to), { recursive: true });
  try {
    linkSync(from, to);
  } catch {
    copyFileSync(from, to);
  }
}

export class LiveStreamWorker {
  private readonly service: LiveStreamService;
  private readonly vodSigner: VodUrlSigner;
  private readonly loop: JobLoop;
  private stopped = false;
  private readonly cleanups = new Map<NodeJS.Timeout, string>();

  constructor(
    private readonly ctx: AppContext,
    private readonly launch: LaunchLiveBeam = launchLiveBeam,
    private readonly media: MediaTools = ffmpegMediaTools,
    concurrency = ctx.config.recorderWorkers,
  ) {
    this.service = new LiveStreamService(ctx);
    this.vodSigner = new VodUrlSigner(ctx.config.appSecret, () => ctx.config.publicUrl);
    this.loop = new JobLoop(ctx, { 'live-stream': (job) => this.runJob(job) }, concurrency);
  }

  /** Own loop for live streams; a server that also records can instead put runJob in a shared JobLoop. */
  start(): void {
    this.loop.start();
  }

  /** Stops taking work; streams in hand are ended and their recordings kept. */
  async stop(): Promise<void> {
    this.stopped = true;
    await this.loop.stop();
    // pending live-dir removals happen now rather than never
    for (const [t, dir] of this.cleanups) {
      clearTimeout(t);
      rmSync(dir, { recursive: true, force: true });
    }
    this.cleanups.clear();
  }

  private workDir(id: string): string {
    return join(this.ctx.config.dataDir, 'work', id);
  }

  readonly runJob = async (job: QueuedJob): Promise<void> => {
    const log = this.ctx.log.child({ streamId: job.jobId });
    const r = await this.service.get(job.jobId);
    if (!r) return;
    const out = liveOutputDir(this.ctx.config.dataDir, r.id);
    if (r.status === 'stopping' && !r.started_at && job.attempts === 1) {
      // stopped before any worker took it
      await this.finalize(r, [], 'BEAM_STOPPED', 'stop requested before the live stream started', log);
      return;
    }
    if (r.status !== 'starting') {
      if (r.status === 'running' || r.status === 'stopping' || r.status === 'post_processing') {
        // taken over from a worker that died mid-stream: stop what it left running, keep what it wrote
        const stopped = await stopLeftoverProcesses(this.workDir(r.id));
        log.warn({ status: r.status, leftoverProcesses: stopped }, 'recovering a live stream whose worker died');
        await this.finalize(r, [], 'INTERNAL_ERROR', 'recorder restarted during the live stream', log);
      }
      return;
    }
    const layers = layersOf(r);
    const names = layerNames(layers);
    let capture: LiveCapture | null = null;
    let lastError = '';
    for (let attempt = 1; attempt <= JOIN_ATTEMPTS && !capture; attempt++) {
      if ((await this.service.get(r.id))?.status !== 'starting') break;
      // a fresh output dir per attempt: players must never see two encoders' segments
      rmSync(out, { recursive: true, force: true });
      mkdirSync(out, { recursive: true });
      try {
        // a fresh short-lived token per attempt: it is only needed until the page has joined
        capture = await this.launch({
          url: await recorderJoinUrl(this.ctx, { id: r.id, kind: 'live-stream', roomId: r.room_id, meetingUrl: r.meeting_url }),
          allowedHosts: recorderAllowedHosts(this.ctx),
          outDir: out,
          layers: layers.map((l, i) => ({ name: names[i], width: l.width, height: l.height, videoBitrateKbps: l.videoBitrate })),
          audioBitrateKbps: layers[0]?.audioBitrate ?? 128,
          fps: r.video_frame_rate,
          segmentSeconds: SEGMENT_SECONDS,
          joinTimeoutMs: this.ctx.config.recorderJoinTimeoutMs,
          log,
        });
      } catch (err) {
        lastError = redactSecrets(err instanceof Error ? err.message : String(err));
        log.warn({ attempt, err: lastError }, 'live stream recorder could not join');
      }
    }
    if (!capture) {
      const now = await this.service.get(r.id);
      if (now?.status === 'stopping') await this.finalize(now, [], 'BEAM_STOPPED', 'stop requested before the live stream started', log);
      else await this.finalize(r, [], 'MAX_RETRIES_REACHED', `recorder could not join the meeting after ${JOIN_ATTEMPTS} attempts: ${lastError}`, log);
      return;
    }
    await this.stream(r, capture, names, log);
  };

  /** Every layer's playlist lists a segment whose file is there, and the master is written. */
  private ready(out: string, names: string[]): boolean {
    if (!existsSync(join(out, 'master.m3u8'))) return false;
    return names.every((n) => {
      const p = readPlaylist(join(out, n, 'index.m3u8'));
      return p.segments.length > 0 && existsSync(join(out, n, p.segments[0].uri));
    });
  }

  private async stream(r: LiveStreamTable, capture: LiveCapture, names: string[], log: Logger): Promise<void> {
    const out = liveOutputDir(this.ctx.config.dataDir, r.id);
    let crashReason: string | null = null;
    void capture.crashed.then((reason) => {
      crashReason = reason;
    });
    mkdirSync(this.workDir(r.id), { recursive: true });
    recordJobProcesses(this.workDir(r.id), capture.processes());
    const launchedAt = Date.now();
    const pauses: Pause[] = [];
    const pruned = names.map(() => 0);
    const recorded = r.hls_vod === 1 || r.single_file_per_layer === 1;
    let running = false;
    let stopBeforeStart = false;
    let startTimedOut = false;
    for (;;) {
      await new Promise((res) => setTimeout(res, POLL_MS));
      if (crashReason || this.stopped) break;
      const now = await this.service.get(r.id);
      if (!now || (now.status !== 'starting' && now.status !== 'running')) {
        stopBeforeStart = !running;
        break;
      }
      if (!running) {
        if (this.ready(out, names)) {
          running = true;
          await this.service.markRunning(r.id, new Date());
          log.info({ timeToRunningMs: Date.now() - Date.parse(r.created_at) }, 'live stream running');
        } else if (Date.now() - launchedAt > START_TIMEOUT_MS) {
          startTimedOut = true;
          break;
        }
      }
      const open = pauses.at(-1)?.to === null ? pauses.at(-1) : undefined;
      if (now.recording_paused === 1 && !open) pauses.push({ from: Date.now(), to: null });
      else if (now.recording_paused === 0 && open) open.to = Date.now();
      if (!recorded && r.playlist_type === 'live') this.prune(out, names, pruned, r.num_playlist_segments);
    }
    await capture.stop();
    const open = pauses.at(-1);
    if (open && open.to === null) open.to = Date.now();
    const latest = (await this.service.get(r.id)) ?? r;
    if (crashReason) await this.finalize(latest, pauses, 'INTERNAL_ERROR', `recorder failed: ${crashReason}`, log);
    else if (startTimedOut) await this.finalize(latest, pauses, 'INTERNAL_ERROR', `no playable segments in every layer within ${START_TIMEOUT_MS / 1000} s`, log);
    else if (stopBeforeStart) await this.finalize(latest, pauses, 'BEAM_STOPPED', 'stop requested before the live stream started', log);
    else if (this.stopped) await this.finalize(latest, pauses, 'INTERNAL_ERROR', 'recorder worker shut down', log);
    else await this.finalize(latest, pauses, undefined, undefined, log);
  }

  /** Deletes segment files that left the live window (by a margin): nothing records them. */
  private prune(out: string, names: string[], pruned: number[], window: number): void {
    names.forEach((n, i) => {
      const segs = readPlaylist(join(out, n, 'index.m3u8')).segments;
      const until = segs.length - window - PRUNE_MARGIN;
      for (; pruned[i] < until; pruned[i]++) rmSync(join(out, n, segs[pruned[i]].uri), { force: true });
    });
  }

  /** Segments → recordings in storage → assets → stream completed or failed; the live dir goes after a grace. */
  private async finalize(r: LiveStreamTable, pauses: Pause[], errorType: ErrorType | undefined, errorMessage: string | undefined, log: Logger): Promise<void> {
    const stoppedAt = new Date();
    errorMessage = redactOptional(errorMessage);
    if (r.status === 'stopping') await this.service.move(r.id, 'post_processing');
    const out = liveOutputDir(this.ctx.config.dataDir, r.id);
    const layers = layersOf(r);
    const names = layerNames(layers);
    const playlists = names.map((n) => readPlaylist(join(out, n, 'index.m3u8')));
    const duration = (playlists[0]?.segments ?? []).reduce((sum, s) => sum + s.duration, 0);
    const wanted = new Set(recordedLayersOf(r).map((l) => `${l.width}x${l.height}`));
    const recordedIdx = layers.map((l, i) => (wanted.has(`${l.width}x${l.height}`) ? i : -1)).filter((i) => i >= 0);
    // each recorded layer's kept segments (paused spans left out), with a gap mark where some were
    const kept = recordedIdx.map((i) => {
      let prev = -2;
      return playlists[i].segments
        .map((s, n) => ({ ...s, n }))
        .filter((s) => !inPause(s, pauses) && existsSync(join(out, names[i], s.uri)))
        .map((s) => {
          const gapBefore = prev !== -2 && s.n !== prev + 1;
          prev = s.n;
          return { ...s, gapBefore };
        });
    });
    const startedMs = Date.parse(r.started_at ?? r.created_at);
    const prefix = this.ctx.customerId;
    const work = this.workDir(r.id);
    const problems: string[] = [];
    const singleFiles: SingleFileOutcome[] = [];
    let vod: LiveStreamOutcome['vod'] = null;
    const partial = errorType ? { partial: true, reason: errorMessage } : {};
    // webhook URLs live as long as the destination (or the recording config) says
    const room = await this.ctx.store.db.selectFrom('rooms').select('template_id').where('id', '=', r.room_id).executeTakeFirst();
    const presignSeconds = webhookPresignSeconds(room ? await getTemplate(this.ctx.store.db, room.template_id) : null, r.destination);

    if (r.single_file_per_layer === 1) {
      mkdirSync(work, { recursive: true });
      for (const [k, i] of recordedIdx.entries()) {
        if (kept[k].length === 0) continue;
        try {
          const tmp = join(work, `layer-${i}.mp4`);
          await this.media.joinSegments(kept[k].map((s) => join(out, names[i], s.uri)), tmp);
          const seconds = await this.media.durationOf(tmp);
          const key = hlsLayerFileKey(prefix, r.room_id, startedMs, i);
          const { size } = this.ctx.localStorage.put(key, tmp);
          const l = layers[i];
          const asset = this.asset(r, 'room-composite', key, size, seconds, { layer: String(i), resolution: { width: l.width, height: l.height }, ...partial }, errorType ? errorMessage : undefined);
          singleFiles.push({ asset, presignedUrl: this.ctx.localStorage.presign(key, presignSeconds).url, layer: i, width: l.width, height: l.height });
        } catch (err) {
          problems.push(`layer ${i} file: ${err instanceof Error ? err.message : String(err)}`);
        }
      }
    }

    if (r.hls_vod === 1 && kept.some((k) => k.length > 0)) {
      try {
        const dir = hlsVodKeyDir(prefix, r.room_id, startedMs);
        const metas = await timedMetadataOf(this.ctx.store.db, r.id);
        let size = 0;
        const built: number[] = [];
        for (const [k, i] of recordedIdx.entries()) {
          if (kept[k].length === 0) continue;
          for (const s of kept[k]) {
            const to = this.ctx.localStorage.fileOf(`${dir}/${names[i]}/${basename(s.uri)}`);
            linkOrCopy(join(out, names[i], s.uri), to);
            size += statSync(to).size;
          }
          const text = withDateRanges(vodPlaylist(kept[k].map((s) => ({ ...s, uri: basename(s.uri) }))), metas);
          const file = this.ctx.localStorage.fileOf(`${dir}/${names[i]}/index.m3u8`);
          writeFileSync(file, text);
          size += Buffer.byteLength(text);
          built.push(i);
        }
        const builtNames = new Set(built.map((i) => `${names[i]}/index.m3u8`));
        const master = filterMaster(readFileSync(join(out, 'master.m3u8'), 'utf8'), (uri) => builtNames.has(uri));
        const masterKey = `${dir}/master.m3u8`;
        writeFileSync(this.ctx.localStorage.fileOf(masterKey), master);
        size += Buffer.byteLength(master);
        const vodSeconds = kept[recordedIdx.indexOf(built[0])].reduce((sum, s) => sum + s.duration, 0);
        const top = layers[built[0]];
        const asset = this.asset(r, 'room-vod', masterKey, size, vodSeconds, { num_layers: String(built.length), max_width: top.width, max_height: top.height, ...partial }, errorType ? errorMessage : undefined);
        vod = { asset, presignedUrl: this.vodSigner.presign(asset.id, presignSeconds).url };
      } catch (err) {
        problems.push(`VOD: ${err instanceof Error ? err.message : String(err)}`);
      }
    }

    if (problems.length) {
      log.error({ problems: problems.map(redactSecrets) }, 'could not build every recording of the live stream; its segments stay in the live dir');
      errorType ??= 'INTERNAL_ERROR';
      errorMessage ??= redactSecrets(`building the recording failed: ${problems.join('; ')}`);
    }
    // the room's own bucket, when it has one: uploaded after the rows exist; the local copies stay until then,
    // and hls.recording.success waits for the uploads (it names the bucket's paths)
    for (const f of singleFiles) f.asset = await this.ctx.uploads.prepare(f.asset, f.asset.status === 'completed');
    if (vod) vod.asset = await this.ctx.uploads.prepare(vod.asset, vod.asset.status === 'completed');
    await this.service.finish(r.id, { vod, singleFiles, duration, errorType, errorMessage, stoppedAt });
    for (const a of [...singleFiles.map((f) => f.asset), ...(vod ? [vod.asset] : [])]) {
      if (a.upload_state === 'pending') await this.ctx.uploads.schedule(a.id);
    }
    rmSync(work, { recursive: true, force: true });
    if (!problems.length) this.removeLater(out);
    log.info({ errorType, duration, vod: vod?.asset.id, files: singleFiles.length }, 'live stream finished');
  }

  private asset(r: LiveStreamTable, type: string, key: string, size: number, seconds: number, metadata: Record<string, unknown>, errorMessage?: string): AssetTable {
    return {
      id: objectId(),
      job_id: r.id,
      room_id: r.room_id,
      session_id: r.session_id,
      type,
      status: 'completed',
      path: this.ctx.localStorage.pathOf(key),
      storage: 'local',
      storage_key: key,
      size,
      duration: Math.round(seconds),
      metadata: toJson(metadata),
      thumbnails: null,
      error_message: errorMessage ?? null,
      created_at: rfc3339(),
      deleted_at: null,
    };
  }

  /** The live dir after a grace period: players of the last segments are not cut off at stop. */
  private removeLater(dir: string): void {
    const t = setTimeout(() => {
      this.cleanups.delete(t);
      rmSync(dir, { recursive: true, force: true });
    }, LIVE_DIR_GRACE_MS);
    t.unref();
    this.cleanups.set(t, dir);
  }
}
