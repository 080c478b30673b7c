// A fleet on one machine, every part real: PostgreSQL, Redis (BullMQ dispatch) and the S3 test server, two nodes
// (`roomcast start`, RECORDER_WORKERS=0: API and rooms, no recorder of their own) and recorder machines
// (`roomcast worker`: no HTTP, no rooms) as separate processes. Two Chromium peers follow links that name
// different nodes and land on the one the room was placed on; a recording started through the other node is
// taken by the worker, whose recorder joins the room on the room's node; active-rooms asked of the other node
// answers from the room's node; `roomcast status` shows nodes and the busy worker. SIGTERM on the room's node:
// it keeps its room but a new room goes to the other node. SIGTERM on the worker drains it: the recording goes
// on there until the drain timeout, then the worker hands it over (all it recorded is in the bucket already)
// and exits, and a second worker goes on with it; the MP4 lands in the shared bucket (STORAGE_URL) with the
// hand-over as its one gap, and its presigned URL downloads a playable file.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { launchPeerBrowser, makeMediaFixtures, openPeerPage, sleep, until, waitJoined, within, type PeerBrowser } from '../helpers/meetingPeers.js';
import { serverProcesses } from '../helpers/serverProcess.js';
import { freePort, startPostgres } from '../helpers/postgres.js';
import { startRedis } from '../helpers/redis.js';
import { S3TestServer } from '../helpers/s3TestServer.js';
import { fleetSettings, fleetStatus } from '../helpers/fleet.js';
import { download } from '../helpers/recordedAsset.js';
import { sample } from '../helpers/metrics.js';
import { probe, sampleFrames, audioLevel } from '../../src/recorder/probe.js';

const BUCKET = 'fleet';
const RECORD_SECONDS = 8;
const DRAIN_TIMEOUT_S = 5;

test('a recording started on a node is recorded by a worker machine and lands in the shared bucket', async () => {
  const [postgres, redis] = await Promise.all([startPostgres('roomcast_fleet'), startRedis()]);
  const s3 = new S3TestServer();
  const media = makeMediaFixtures();
  const browsers: PeerBrowser[] = [];
  const tmp = mkdtempSync(join(tmpdir(), 'roomcast-fleet-'));
  let sp: Awaited<ReturnType<typeof serverProcesses>> | null = null;
  let spB: Awaited<ReturnType<typeof serverProcesses>> | null = null;
  try {
    await s3.start();
    await s3.createBucket(BUCKET);
    const fleet = fleetSettings(postgres, redis, s3, BUCKET);
    // two nodes (API, pages, rooms), no recorders of their own
    sp = await serverProcesses({ ...fleet, RECORDER_WORKERS: '0' });
    spB = await serverProcesses({ ...fleet, RECORDER_WORKERS: '0' });
    const children = await Promise.all([sp.start(), spB.start()]);
    const nodes = [sp, spB];
    // a worker's PUBLIC_URL is the fleet's: the meeting pages it records (and joins with a recorder token) are there
    const workerEnv = { RECORDER_WORKERS: '1', PUBLIC_URL: sp.base, LOG_LEVEL: process.env.FLEET_LOG ?? 'warn', DRAIN_TIMEOUT_SECONDS: String(DRAIN_TIMEOUT_S) };
    // the first worker serves Prometheus on its own port (it has no API)
    const workerMetricsPort = await freePort();
    const worker = sp.startWorker({ ...workerEnv, METRICS_PORT: String(workerMetricsPort) });

    await until('both nodes report', () => fleetStatus(fleet, tmp).nodes.length === 2, 30_000, 300);
    const roomId = (await sp.api('POST', '/v2/rooms', { name: 'fleet-room' })).body.id;
    browsers.push(await launchPeerBrowser(media), await launchPeerBrowser(media));
    // Alice's link names node B, Bob's node A: both land on the node the room was placed on at the first join
    const pages = [];
    for (const [i, name] of ['Alice', 'Bob'].entries()) {
      const token = await sp.appToken(roomId, 'host', name.toLowerCase());
      pages.push(await openPeerPage(browsers[i], `${nodes[1 - i].base}/preview/${roomId}/host?auth_token=${token}&skip_preview_headful=true&name=${name}`));
      await waitJoined(pages[i]);
    }
    const origins = pages.map((p) => new URL(p.url()).origin);
    assert.equal(origins[0], origins[1], 'both peers are on the room\'s node');
    const home = nodes.find((n) => n.base === origins[0])!;
    const other = nodes.find((n) => n !== home)!;

    // the recording is started through the node the room is not on
    const start = await other.api('POST', `/v2/recordings/room/${roomId}/start`, {});
    assert.equal(start.status, 200, JSON.stringify(start.body));
    const id = start.body.id;
    await until('running (on the worker)', async () => {
      const r = (await sp!.api('GET', `/v2/recordings/${id}`)).body;
      if (r.status === 'failed') throw new Error(`failed: ${JSON.stringify(r)}`);
      return r.status === 'running' ? r : null;
    }, 120_000, 300);
    // the recorder is the worker's: the nodes have none (RECORDER_WORKERS=0), and its hidden peer is in the room, on the room's node
    const room = (await home.api('GET', `/v2/active-rooms/${roomId}`)).body;
    assert.equal(Object.keys(room.peers ?? {}).length, 2, `the recorder is not listed: ${JSON.stringify(room)}`);
    // asked of the other node, the room's peers come from the room's node
    const remote = await other.api('GET', `/v2/active-rooms/${roomId}`);
    assert.equal(remote.status, 200, JSON.stringify(remote.body));
    assert.deepEqual(Object.keys(remote.body.peers).sort(), Object.keys(room.peers).sort());
    const managementToken = await sp.managementToken();
    const metricsOf = (n: typeof home) => fetch(`${n.base}/metrics`, { headers: { authorization: `Bearer ${managementToken}` } }).then((r) => r.text());
    const metrics = await metricsOf(home);
    assert.equal(sample(metrics, 'roomcast_sfu_peers'), 3, 'the worker\'s recorder is in the room, on the room\'s node');
    assert.equal(sample(await metricsOf(other), 'roomcast_sfu_peers'), 0, 'the other node hosts nobody');
    assert.equal(sample(metrics, 'roomcast_recorder_free_slots'), 0, 'the node records nothing itself');
    // roomcast status: the worker machine reports itself (one recorder, busy) and the fleet's jobs
    const fleetNow = fleetStatus(fleet, tmp);
    const status = { stdout: JSON.stringify(fleetNow) };
    assert.equal(fleetNow.machines.length, 1, status.stdout);
    assert.deepEqual(fleetNow.nodes.map((n: { url: string }) => n.url).sort(), [home.base, other.base].sort(), status.stdout);
    assert.equal(fleetNow.nodes.find((n: { url: string }) => n.url === other.base).peers, 0, status.stdout);
    assert.equal(fleetNow.machines[0].running, 1, status.stdout);
    assert.deepEqual([fleetNow.capacity.recorders, fleetNow.capacity.running], [1, 1]);
    assert.equal(fleetNow.jobs.jobs.find((j: any) => j.kind === 'recording' && j.status === 'running')?.n, 1, status.stdout);
    // the worker's own /metrics: behind a management token; its free CPU (one 720p job held) and the fleet's jobs
    const workerMetricsUrl = `http://127.0.0.1:${workerMetricsPort}/metrics`;
    assert.equal((await fetch(workerMetricsUrl)).status, 401);
    const workerMetrics = await (await fetch(workerMetricsUrl, { headers: { authorization: `Bearer ${managementToken}` } })).text();
    assert.equal(sample(workerMetrics, 'roomcast_jobs{kind="recording",status="running"}'), 1, workerMetrics);
    assert.ok(Math.abs(sample(workerMetrics, 'roomcast_recorder_free_cpu_cores')! - fleetNow.machines[0].freeCores) < 0.01, workerMetrics);
    assert.ok((sample(workerMetrics, 'roomcast_process_resident_memory_bytes') ?? 0) > 0);
    // SIGTERM on the room's node: it keeps its room (and the recording) but takes no new one; a new room's link
    // asked of it goes to the other node
    const homeChild = children[nodes.indexOf(home)];
    homeChild.kill('SIGTERM');
    await until('the node drains', () => fleetStatus(fleet, tmp).nodes.find((n: { url: string; draining: boolean }) => n.url === home.base)?.draining, 10_000, 300);
    const room2 = (await home.api('POST', '/v2/rooms', { name: 'fleet-room-2' })).body.id;
    const ctx = await browsers[0].browser.newContext();
    const late = await ctx.newPage();
    await late.goto(`${home.base}/preview/${room2}/host`);
    assert.equal(new URL(late.url()).origin, other.base, 'a new room goes to the node that is not draining');
    await ctx.close();
    assert.equal(homeChild.exitCode, null, 'the draining node keeps serving its room');
    await sleep(RECORD_SECONDS * 1000);
    assert.equal(worker.exitCode, null, 'the worker runs');

    // SIGTERM drains the worker: it takes no new job, and the one it records goes on there until the drain timeout
    const workerExit = new Promise<number | null>((resolve) => worker.once('exit', (code) => resolve(code)));
    worker.kill('SIGTERM');
    await sleep(1500);
    assert.equal(worker.exitCode, null, 'a draining worker keeps its job until the drain timeout');
    assert.equal((await sp.api('GET', `/v2/recordings/${id}`)).body.status, 'running');
    const draining = fleetStatus(fleet, tmp);
    assert.deepEqual([draining.machines[0]?.draining, draining.machines[0]?.freeCores], [true, 0]);
    // at the timeout it hands the recording over and exits; a second worker goes on with it
    const second = sp.startWorker(workerEnv);
    assert.equal(await within(workerExit, 90_000), 0, 'the drained worker exits once its job is handed over');
    await until('the second worker records', () => {
      const now = fleetStatus(fleet, tmp);
      return now.machines.find((m: { pid: number; running: number }) => m.pid === second.pid && m.running === 1);
    }, 90_000, 500);
    assert.equal((await sp.api('GET', `/v2/recordings/${id}`)).body.status, 'running', 'the recording goes on through the hand-over');
    await sleep(6000);

    const stop = await sp.api('POST', `/v2/recordings/${id}/stop`);
    assert.equal(stop.status, 200, JSON.stringify(stop.body));
    const done = await until('the asset in the bucket', async () => {
      const r = (await sp!.api('GET', `/v2/recordings/${id}`)).body;
      if (r.status === 'failed') throw new Error(`failed: ${JSON.stringify(r)}`);
      return r.status === 'completed' && r.recording_assets?.[0]?.path?.startsWith('s3://') ? r : null;
    }, 120_000, 500);
    const asset = done.recording_assets[0];
    assert.equal(asset.metadata?.gaps?.length, 1, JSON.stringify(asset.metadata));
    assert.match(asset.metadata.gaps[0].reason, /took the job over/);
    assert.match(asset.path, new RegExp(`^s3://${BUCKET}/rec/beam/${roomId}/\\d{8}/Rec-${roomId}-\\d{13}\\.mp4$`));

    const pre = await sp.api('GET', `/v2/recording-assets/${asset.id}/presigned-url`);
    assert.equal(pre.status, 200, JSON.stringify(pre.body));
    assert.equal(new URL(pre.body.url).origin, s3.endpoint);
    const dl = await download(pre.body.url);
    assert.equal(dl.status, 200);
    const file = join(tmp, 'fleet.mp4');
    writeFileSync(file, dl.body);
    const info = await probe(file);
    assert.equal(info.streams.find((x) => x.type === 'video')?.codec, 'h264');
    assert.ok(info.duration >= RECORD_SECONDS - 1, `duration ${info.duration}`);
    const frames = await sampleFrames(file, 3, { pixFmt: 'rgb24', width: 320, height: 180 });
    for (const f of frames) assert.ok(f.meanLuma > 20 && f.variance > 100, `frame at ${f.at}s is black or flat`);
    assert.ok((await audioLevel(file)).maxDb > -40, 'the audio is not silent');

    // the room's node dies: once its report has expired, the room is placed again; a peer reloading its link
    // (which names the dead node's neighbour) joins the room there
    await sp.kill(homeChild);
    await until('the dead node leaves the fleet', () => fleetStatus(fleet, tmp).nodes.every((n: { url: string }) => n.url !== home.base), 30_000, 500);
    await pages[0].goto(`${other.base}/preview/${roomId}/host?auth_token=${await sp.appToken(roomId, 'host', 'alice')}&skip_preview_headful=true&name=Alice`);
    await waitJoined(pages[0]);
    assert.equal(new URL(pages[0].url()).origin, other.base, 'the room lives on the node still running');
    assert.equal(Object.keys((await other.api('GET', `/v2/active-rooms/${roomId}`)).body.peers ?? {}).length, 1);
  } finally {
    for (const b of browsers) await b.close().catch(() => undefined);
    await sp?.close();
    await spB?.close();
    s3.destroy();
    await Promise.all([redis.stop(), postgres.stop()]);
    rmSync(tmp, { recursive: true, force: true });
  }
});
