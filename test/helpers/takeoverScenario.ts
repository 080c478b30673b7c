// A recorder machine dies mid-recording (test/e2e/fleetTakeover.test.ts, and `npm run bench -- takeover`): a
// fleet (PostgreSQL, Redis, the S3 test server) with two nodes and two worker machines as separate processes; one
// peer publishes a camera that shows the wall clock. The worker recording the room is SIGKILLed with every
// process it started (its handler, Chromium, Xvfb, PulseAudio, ffmpeg) `killAfterS` in; the other worker takes
// the job over; after the stop, the MP4 in the bucket is read frame by frame and dated by the clock it shows.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { launchPeerBrowser, sleep, until, waitJoined, type PeerBrowser } from './meetingPeers.js';
import { killTree, serverProcesses } from './serverProcess.js';
import { startPostgres } from './postgres.js';
import { startRedis } from './redis.js';
import { S3TestServer } from './s3TestServer.js';
import { fleetSettings, fleetStatus } from './fleet.js';
import { download } from './recordedAsset.js';
import { CLOCK_CAMERA_SCRIPT, readClocks, type ClockFrame } from './clockCamera.js';
import { audioLevel, probe } from '../../src/recorder/probe.js';

const BUCKET = 'takeover';

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
  /** the asset as GET /v2/recordings/:id shows it */
  asset: { id: string; path: string; metadata?: { gaps?: { at: number; missing_seconds: number; reason: string }[] } };
  /** processes killed as the machine's power cut */
  killed: number[];
  /** streamed parts still in the bucket after the asset was stored */
  partsLeft: string[];
}

export async function runTakeover(opts: { killAfterS: number; afterTakeoverS: number }): Promise<TakeoverRun> {
  const [postgres, redis] = await Promise.all([startPostgres('roomcast_takeover'), startRedis()]);
  const s3 = new S3TestServer();
  let browser: PeerBrowser | null = null;
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
    const start = await api('POST', `/v2/recordings/room/${roomId}/start`, {});
    assert.equal(start.status, 200, JSON.stringify(start.body));
    const id = start.body.id;
    const recording = async () => {
      const r = (await api('GET', `/v2/recordings/${id}`)).body;
      if (r.status === 'failed') throw new Error(`failed: ${JSON.stringify(r)}`);
      return r;
    };
    await until('running', async () => ((await recording()).status === 'running' ? true : null), 120_000, 300);
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

    const stop = await api('POST', `/v2/recordings/${id}/stop`);
    assert.equal(stop.status, 200, JSON.stringify(stop.body));
    const stopAt = Date.now();
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
    const info = await probe(file);
    return {
      killAt,
      tookOverAt,
      stopAt,
      assetAt,
      frames: await readClocks(file, killAt),
      fileSeconds: info.duration,
      videoCodec: info.streams.find((x) => x.type === 'video')?.codec,
      audioMaxDb: (await audioLevel(file)).maxDb,
      asset,
      killed,
      // they go right after the asset is stored
      partsLeft: await until('the streamed parts removed', async () => ((await s3.list(BUCKET, `rec/.parts/${id}/`)).length === 0 ? [] : null), 10_000, 250).catch(() => s3.list(BUCKET, `rec/.parts/${id}/`)),
    };
  } finally {
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
