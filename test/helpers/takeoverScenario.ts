// A recorder machine dies mid-job (test/e2e/fleetTakeover.test.ts, and `npm run bench -- takeover`): a fleet
// (PostgreSQL, Redis, the S3 test server) with two nodes and two worker machines as separate processes; one
// peer publishes a camera that shows the wall clock. The worker recording the room (or live streaming it) is
// SIGKILLed with every process it started (its handler, Chromium, Xvfb, PulseAudio, ffmpeg) `killAfterS` in; the
// other worker takes the job over. After the stop, what was delivered is read frame by frame and dated by the
// clock it shows: a recording's MP4 in the bucket, or a live stream's top layer as a player gets it from a node
// (its segments joined).
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { launchPeerBrowser, sleep, until, waitJoined, within, type PeerBrowser } from './meetingPeers.js';
import { killTree, serverProcesses } from './serverProcess.js';
import { startPostgres } from './postgres.js';
import { startRedis } from './redis.js';
import { S3TestServer } from './s3TestServer.js';
import { fleetSettings, fleetStatus } from './fleet.js';
import { download } from './recordedAsset.js';
import { CLOCK_CAMERA_SCRIPT, readClocks, type ClockFrame } from './clockCamera.js';
import { audioLevel, probe } from '../../src/recorder/probe.js';
import { parseMediaPlaylist, variantUris, type MediaPlaylist, type PlaylistSegment } from '../../src/domain/hlsPlaylists.js';

const BUCKET = 'takeover';

export type TakeoverKind = 'recording' | 'live-stream';

/** What a live stream's player got from a node, start to end: its top layer's segments, in order, as the playlists named them. */
export interface LiveDelivered {
  playlist: MediaPlaylist;
  /** the node answering was not the one the room is on, nor did it run an encoder */
  node: string;
}

export interface TakeoverRun {
  /** epoch ms: the kill, the other worker running the job, the stop call, the asset in the bucket */
  killAt: number;
  tookOverAt: number;
  stopAt: number;
  assetAt: number;
  /** the MP4's frames, dated by the clock they show */
  frames: ClockFrame[];
  fileSeconds: number;
  videoCodec: string | undefined;
  audioMaxDb: number;
  /** the asset as GET /v2/recordings/:id (a recording's MP4) or /v2/live-streams/:id (a live stream's VOD) shows it */
  asset?: { id: string; path: string; duration?: number; metadata?: { gaps?: { at: number; missing_seconds: number; reason: string }[] } };
  /** a live stream's delivery */
  live?: LiveDelivered;
  /** processes killed as the machine's power cut */
  killed: number[];
  /** a recording's streamed parts still in the bucket after the asset was stored */
  partsLeft: string[];
}

/** Where a job kind is started and read in the API. */
const PATHS: Record<TakeoverKind, { start: (room: string) => string; get: (id: string) => string; stop: (id: string) => string }> = {
  recording: { start: (room) => `/v2/recordings/room/${room}/start`, get: (id) => `/v2/recordings/${id}`, stop: (id) => `/v2/recordings/${id}/stop` },
  'live-stream': { start: (room) => `/v2/live-streams/room/${room}/start`, get: (id) => `/v2/live-streams/${id}`, stop: (id) => `/v2/live-streams/${id}/stop` },
};

export async function runTakeover(opts: { killAfterS: number; afterTakeoverS: number; kind?: TakeoverKind }): Promise<TakeoverRun> {
  const kind = opts.kind ?? 'recording';
  const [postgres, redis] = await Promise.all([startPostgres('roomcast_takeover'), startRedis()]);
  const s3 = new S3TestServer();
  let browser: PeerBrowser | null = null;
  let player: LivePlayer | null = null;
  const tmp = mkdtempSync(join(tmpdir(), 'roomcast-takeover-'));
  let sp: Awaited<ReturnType<typeof serverProcesses>> | null = null;
  let spB: Awaited<ReturnType<typeof serverProcesses>> | null = null;
  const killed: number[] = [];
  try {
    await s3.start();
    await s3.createBucket(BUCKET);
    const fleet = { ...fleetSettings(postgres, redis, s3, BUCKET), RECORDER_TAKEOVER_SECONDS: '10' };
    // two nodes, A and B
    sp = await serverProcesses({ ...fleet, RECORDER_WORKERS: '0' });
    spB = await serverProcesses({ ...fleet, RECORDER_WORKERS: '0' });
    await Promise.all([sp.start(), spB.start()]);
    const workerEnv = { RECORDER_WORKERS: '1', PUBLIC_URL: sp.base, LOG_LEVEL: process.env.FLEET_LOG ?? 'warn' };
    const workers = [sp.startWorker(workerEnv), sp.startWorker(workerEnv)];
    const status = () => fleetStatus(fleet, tmp) as { machines: { pid: number; running: number }[]; nodes: unknown[] };
    await until('both workers and both nodes report', () => {
      const now = status();
      return now.machines.length === 2 && now.nodes.length === 2;
    }, 60_000, 500);

    const roomId = (await sp.api('POST', '/v2/rooms', { name: 'takeover-room' })).body.id;
    browser = await launchPeerBrowser();
    const context = await browser.browser.newContext({ permissions: ['camera', 'microphone'], viewport: { width: 1280, height: 720 } });
    await context.addInitScript(CLOCK_CAMERA_SCRIPT);
    const page = await context.newPage();
    await page.goto(`${sp.base}/preview/${roomId}/host?auth_token=${await sp.appToken(roomId, 'host', 'clock')}&skip_preview_headful=true&name=Clock`);
    await waitJoined(page);
    // the peer joined through node A's link; the recording is started through the node the room is not on
    const other = new URL(page.url()).origin === sp.base ? spB : sp;
    const api = other.api;
    // a live stream is recorded too: its VOD is made of the segments both machines encoded
    const start = await api('POST', PATHS[kind].start(roomId), kind === 'live-stream' ? { recording: { hls_vod: true } } : {});
    assert.equal(start.status, 200, JSON.stringify(start.body));
    const id = start.body.id;
    const recording = async () => {
      const r = (await api('GET', PATHS[kind].get(id))).body;
      if (r.status === 'failed') throw new Error(`failed: ${JSON.stringify(r)}`);
      return r;
    };
    await until('running', async () => ((await recording()).status === 'running' ? true : null), 120_000, 300);
    // a live stream's player, on the node the room is not on, from now until the stream ends
    player = kind === 'live-stream' ? new LivePlayer(start.body.playback.url) : null;
    const first = await until('the worker recording it', () => status().machines.find((m) => m.running === 1), 30_000, 500);
    const survivor = workers.find((w) => w.pid !== first.pid)!;
    await sleep(opts.killAfterS * 1000);

    // the power cut: the worker and everything it started, at once
    const killAt = Date.now();
    killed.push(...killTree(first.pid));
    await until('the other worker takes the job over', () => status().machines.find((m) => m.pid === survivor.pid && m.running === 1), 90_000, 500);
    const tookOverAt = Date.now();
    // its recorder joins the room again (a few seconds), then records on
    await sleep(opts.afterTakeoverS * 1000 + 5000);
    assert.equal((await recording()).status, 'running', 'the recording goes on through the takeover');

    const stop = await api('POST', PATHS[kind].stop(id));
    assert.equal(stop.status, 200, JSON.stringify(stop.body));
    const stopAt = Date.now();
    if (kind === 'live-stream') {
      const file = join(tmp, 'takeover.ts');
      const live = await player!.ended(file);
      const done = await until('the stream completed', async () => {
        const r = await recording();
        return r.status === 'completed' ? r : null;
      }, 120_000, 300);
      const vod = (done.recording_assets ?? []).find((a: { type: string }) => a.type === 'room-vod');
      return { killAt, tookOverAt, stopAt, assetAt: Date.now(), killed, partsLeft: [], asset: vod, live: { ...live, node: other.base }, ...(await readDelivered(file, killAt)) };
    }
    const done = await until('the asset in the bucket', async () => {
      const r = await recording();
      return r.status === 'completed' && r.recording_assets?.[0]?.path?.startsWith('s3://') ? r : null;
    }, 120_000, 200);
    const assetAt = Date.now();
    const asset = done.recording_assets[0];
    const pre = await api('GET', `/v2/recording-assets/${asset.id}/presigned-url`);
    assert.equal(pre.status, 200, JSON.stringify(pre.body));
    const dl = await download(pre.body.url);
    assert.equal(dl.status, 200);
    const file = join(tmp, 'takeover.mp4');
    writeFileSync(file, dl.body);
    return {
      killAt,
      tookOverAt,
      stopAt,
      assetAt,
      ...(await readDelivered(file, killAt)),
      asset,
      killed,
      // they go right after the asset is stored
      partsLeft: await until('the streamed parts removed', async () => ((await s3.list(BUCKET, `rec/.parts/${id}/`)).length === 0 ? [] : null), 10_000, 250).catch(() => s3.list(BUCKET, `rec/.parts/${id}/`)),
    };
  } finally {
    player?.stop();
    for (const p of killed) {
      try {
        process.kill(p, 'SIGKILL');
      } catch {
        /* gone */
      }
    }
    await browser?.close().catch(() => undefined);
    await sp?.close();
    await spB?.close();
    s3.destroy();
    await Promise.all([redis.stop(), postgres.stop()]);
    rmSync(tmp, { recursive: true, force: true });
  }
}

/** The media file's frames dated by their clocks, its length, codec and loudness. */
async function readDelivered(file: string, killAt: number): Promise<Pick<TakeoverRun, 'frames' | 'fileSeconds' | 'videoCodec' | 'audioMaxDb'>> {
  const info = await probe(file);
  return {
    frames: await readClocks(file, killAt),
    fileSeconds: info.duration,
    videoCodec: info.streams.find((x) => x.type === 'video')?.codec,
    audioMaxDb: (await audioLevel(file)).maxDb,
  };
}

/**
 * A live stream's player: its top layer's playlist every second (a sliding window), each new segment fetched
 * once, as hls.js does; at the end, the segments it got in order (their tags as the playlist gave them) and
 * their bytes joined into a file (MPEG-TS segments join by concatenation).
 */
class LivePlayer {
  private readonly got = new Map<string, { segment: PlaylistSegment; bytes: Buffer }>();
  private ended_ = false;
  private error: unknown = null;
  private readonly loop: Promise<void>;

  constructor(private readonly playbackUrl: string) {
    this.loop = this.run().catch((err) => void (this.error = err));
  }

  private async run(): Promise<void> {
    // the node may not have the master yet right as the stream runs (it comes from the store)
    const variant = await until('the live master playlist', async () => {
      const r = await fetch(this.playbackUrl);
      return r.status === 200 ? variantUris(await r.text())[0] : null;
    }, 90_000, 250);
    const media = new URL(variant, this.playbackUrl);
    while (!this.ended_) {
      const r = await fetch(media);
      if (r.status === 200) {
        const p = parseMediaPlaylist(await r.text());
        for (const s of p.segments) {
          if (this.got.has(s.uri)) continue;
          const seg = await fetch(new URL(s.uri, media));
          assert.equal(seg.status, 200, `${s.uri} of the live playlist`);
          this.got.set(s.uri, { segment: s, bytes: Buffer.from(await seg.arrayBuffer()) });
        }
        this.ended_ = p.ended;
      }
      if (!this.ended_) await sleep(1000);
    }
  }

  /** Stops polling (the test ends). */
  stop(): void {
    this.ended_ = true;
  }

  /** Once the playlist ended: what the player got, its bytes joined into `file`. */
  async ended(file: string): Promise<Omit<LiveDelivered, 'node'>> {
    await within(this.loop, 60_000);
    if (this.error) throw this.error;
    assert.ok(this.ended_, `the live playlist ends within a minute of the stop (got ${this.got.size} segments)`);
    const all = [...this.got.values()].sort((a, b) => a.segment.uri.localeCompare(b.segment.uri));
    writeFileSync(file, Buffer.concat(all.map((x) => x.bytes)));
    return { playlist: { header: [], segments: all.map((x) => x.segment), ended: true } };
  }
}

/** What the pictures say: seconds recorded before the kill that are missing, and the hole in the file's clock. */
export function lostAroundKill(run: TakeoverRun): { lostSeconds: number; gapSeconds: number; lastAfterMs: number; dated: number } {
  const dated = run.frames.filter((f): f is { at: number; wallMs: number } => f.wallMs !== null);
  const before = dated.filter((f) => f.wallMs <= run.killAt);
  const after = dated.filter((f) => f.wallMs > run.killAt);
  assert.ok(before.length > 0 && after.length > 0, `frames before the kill: ${before.length}, after: ${after.length}`);
  const lastBefore = Math.max(...before.map((f) => f.wallMs));
  const firstAfter = Math.min(...after.map((f) => f.wallMs));
  return { lostSeconds: (run.killAt - lastBefore) / 1000, gapSeconds: (firstAfter - lastBefore) / 1000, lastAfterMs: Math.max(...after.map((f) => f.wallMs)), dated: dated.length };
}
