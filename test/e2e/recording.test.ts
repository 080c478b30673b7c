// Composite recording end to end (seed 000): real Chromium peers with fake camera and microphone in a room,
// one sharing a screen; the seed's start call; the server's own recorder worker (Xvfb + PulseAudio + headful
// Chromium on the meeting page + one ffmpeg); stop; then the asset is checked with ffprobe and decoded frames.
// Also: auto-start/auto-stop from the template, a recorder that cannot join (MAX_RETRIES_REACHED), and a stop
// while starting (BEAM_STOPPED). A killed encoder or browser: test/e2e/recorderRelaunch.test.ts.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { launchPeerBrowser, makeMediaFixtures, openPeerPage, until, waitJoined, sleep, type MediaFixtures, type PeerBrowser } from '../helpers/meetingPeers.js';
import { liveProcesses, runTool } from '../../src/recorder/proc.js';
import { audioLevel, probe, sampleFrames, type SampledFrame } from '../../src/recorder/probe.js';
import { sample } from '../helpers/metrics.js';

let s: TestServer;
let aliceMedia: MediaFixtures;
let bobMedia: { dir: string; video: string; audio: string };
let aliceBrowser: PeerBrowser;
let bobBrowser: PeerBrowser;

/** Bob's camera is a flat orange picture: its tile is easy to find in a recorded frame (Alice's camera is
 * Chromium-independent testsrc2 bars, the fake screen share is green: three things a frame must show). */
function orangeCamera(): { dir: string; video: string; audio: string } {
  const dir = mkdtempSync(join(tmpdir(), 'roomcast-orange-'));
  const video = join(dir, 'orange.y4m');
  const audio = join(dir, 'tone.wav');
  for (const args of [
    ['-f', 'lavfi', '-i', 'color=c=0xff8c00:size=640x360:rate=15', '-t', '4', '-pix_fmt', 'yuv420p', video],
    ['-f', 'lavfi', '-i', 'sine=frequency=660:sample_rate=48000', '-t', '4', '-ac', '1', audio],
  ]) {
    const r = spawnSync('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-y', ...args]);
    if (r.status !== 0) throw new Error(`ffmpeg failed: ${r.stderr?.toString()}`);
  }
  return { dir, video, audio };
}

before(async () => {
  s = await startTestServer({ RECORDER_WORKERS: '1', RECORDER_JOIN_TIMEOUT_SECONDS: '15' });
  aliceMedia = makeMediaFixtures();
  bobMedia = orangeCamera();
  [aliceBrowser, bobBrowser] = await Promise.all([launchPeerBrowser(aliceMedia), launchPeerBrowser({ ...bobMedia, remove() {} })]);
});

after(async () => {
  await aliceBrowser?.close();
  await bobBrowser?.close();
  await s?.stop();
  aliceMedia?.remove();
  if (bobMedia) rmSync(bobMedia.dir, { recursive: true, force: true });
  const left = liveProcesses();
  assert.deepEqual(left, [], `recorder processes left behind: ${JSON.stringify(left)}`);
});

async function roomCodes(roomId: string): Promise<Record<string, string>> {
  const r = await s.api('POST', `/v2/room-codes/room/${roomId}`);
  assert.equal(r.status, 200, JSON.stringify(r.body));
  return Object.fromEntries(r.body.data.map((c: any) => [c.role, c.code]));
}

async function joinPeer(pb: PeerBrowser, code: string, name: string): Promise<Page> {
  const page = await openPeerPage(pb, `${s.url}/meeting/${code}?skip_preview_headful=true&name=${name}`);
  await waitJoined(page, 60_000);
  return page;
}

async function waitStatus(id: string, want: string[], timeoutMs = 90_000): Promise<any> {
  return until(
    `recording ${id} to be ${want.join('|')}`,
    async () => {
      const r = await s.api('GET', `/v2/recordings/${id}`);
      return want.includes(r.body.status) ? r.body : null;
    },
    timeoutMs,
    300,
  );
}

/** Share of a frame's pixels that match a colour test. */
function share(f: SampledFrame, match: (r: number, g: number, b: number) => boolean): number {
  let n = 0;
  for (let i = 0; i < f.data.length; i += 3) if (match(f.data[i], f.data[i + 1], f.data[i + 2])) n++;
  return n / (f.width * f.height);
}
const isOrange = (r: number, g: number, b: number) => r > 200 && g > 100 && g < 180 && b < 60; // Bob's camera
const isBlue = (r: number, g: number, b: number) => b > 150 && r < 80 && g < 80; // a bar of Alice's testsrc2
const isGreen = (r: number, g: number, b: number) => g > 100 && r < 90 && b < 90; // Chromium's fake screen

test('seed: start with {"resolution":{"width":1280,"height":720}}, two peers and a screen share, stop → one playable MP4', async () => {
  const roomId = (await s.api('POST', '/v2/rooms', { name: 'e2e-record' })).body.id;
  const codes = await roomCodes(roomId);
  const alice = await joinPeer(aliceBrowser, codes.host, 'Alice');
  const bob = await joinPeer(bobBrowser, codes.guest, 'Bob');
  await alice.getByRole('button', { name: 'Share screen' }).click();
  await until('bob sees the screen share', async () => (await bob.locator('#stage .tile.screen video').count()) > 0, 30_000);

  const calledAt = Date.now();
  const start = await s.api('POST', `/v2/recordings/room/${roomId}/start`, { resolution: { width: 1280, height: 720 } });
  assert.equal(start.status, 200, JSON.stringify(start.body));
  assert.equal(start.body.status, 'starting');
  const running = await waitStatus(start.body.id, ['running']);
  const runningSeenAt = Date.now();
  assert.ok(running.started_at, 'started_at set when the first frame is written');
  assert.notEqual(running.session_id, '', 'the recording belongs to the room session');
  console.log(`# start → running observed after ${runningSeenAt - calledAt} ms`);
  // the SFU's load in /metrics: this room, its two peers and the recorder, the tracks forwarded to them
  const metrics = (await s.api('GET', '/metrics')).body as string;
  assert.equal(sample(metrics, 'roomcast_sfu_rooms'), 1, metrics);
  assert.equal(sample(metrics, 'roomcast_sfu_peers'), 3, metrics);
  assert.ok(sample(metrics, 'roomcast_sfu_forwarded_streams')! >= 6, metrics);
  assert.equal(sample(metrics, 'roomcast_jobs{kind="recording",status="running"}'), 1);

  await sleep(8000);
  const stopAt = Date.now();
  const stop = await s.api('POST', `/v2/recordings/room/${roomId}/stop`);
  assert.equal(stop.status, 200);
  assert.equal(stop.body.data[0].status, 'stopping');
  const done = await waitStatus(start.body.id, ['completed', 'failed']);
  console.log(`# stop → completed after ${Date.now() - stopAt} ms`);
  assert.equal(done.status, 'completed', JSON.stringify(done));
  assert.equal(done.recording_assets.length, 1);
  const asset = done.recording_assets[0];
  assert.equal(asset.type, 'room-composite');
  assert.equal(asset.status, 'completed');
  assert.match(asset.path, new RegExp(`/beam/${roomId}/\\d{8}/Rec-${roomId}-\\d{13}\\.mp4$`));
  assert.deepEqual(asset.metadata.resolution, { width: 1280, height: 720 });

  // the file itself
  const file = s.services.localStorage.fileOf(asset.path.replace('local://roomcast/', ''));
  const info = await probe(file);
  const v = info.streams.find((x) => x.type === 'video');
  const a = info.streams.find((x) => x.type === 'audio');
  assert.equal(v?.codec, 'h264');
  assert.equal(v?.width, 1280);
  assert.equal(v?.height, 720);
  assert.equal(a?.codec, 'aac');
  // nothing lost: the file (plus any gap it names) covers started_at → the stop call; and it does not run on
  // past the job's end (stopped_at)
  const startedMs = Date.parse(done.started_at);
  const missing = ((asset.metadata.gaps ?? []) as Array<{ missing_seconds: number }>).reduce((t, g) => t + g.missing_seconds, 0);
  const why = JSON.stringify({ started_at: done.started_at, stop_called: new Date(stopAt).toISOString(), stopped_at: done.stopped_at, metadata: asset.metadata, streams: info.streams });
  const runningSeconds = (stopAt - startedMs) / 1000;
  assert.ok(info.duration + missing >= runningSeconds - 1, `duration ${info.duration}s (+${missing}s of named gaps) vs running time ${runningSeconds}s: ${why}`);
  assert.ok(info.duration <= (Date.parse(done.stopped_at) - startedMs) / 1000 + 0.5, `duration ${info.duration}s runs past stopped_at: ${why}`);
  assert.ok(Math.abs(asset.duration - info.duration) <= 1);
  assert.ok(asset.size > 100_000, `size ${asset.size}`);

  const frames = await sampleFrames(file, 4, { pixFmt: 'rgb24', width: 320, height: 180 });
  assert.equal(frames.length, 4);
  for (const f of frames) {
    assert.ok(f.meanLuma > 20 && f.variance > 100, `frame at ${f.at}s is black or flat (luma ${f.meanLuma}, var ${f.variance})`);
    // every tile: Bob's orange camera, Alice's camera bars, and the screen share shown large
    assert.ok(share(f, isOrange) > 0.02, `Bob's tile not visible at ${f.at}s (${share(f, isOrange)})`);
    assert.ok(share(f, isBlue) > 0.002, `Alice's tile not visible at ${f.at}s (${share(f, isBlue)})`);
    assert.ok(share(f, isGreen) > 0.25, `the screen share is not shown large at ${f.at}s (${share(f, isGreen)})`);
  }
  // a picture of the recording for people reading the test run (.test-artifacts is not committed)
  mkdirSync('.test-artifacts/recording', { recursive: true });
  await runTool('ffmpeg', ['-v', 'error', '-y', '-ss', String(info.duration / 2), '-i', file, '-frames:v', '1', '.test-artifacts/recording/composite.png']);
  const level = await audioLevel(file);
  assert.ok(level.maxDb > -40, `audio is silent (max ${level.maxDb} dB)`);

  // events of the job, in order
  const events = (await s.services.events.list({ roomId })).map((e) => e.type).filter((t) => t.startsWith('beam.'));
  assert.deepEqual(events, ['beam.started.success', 'beam.stopped.success', 'beam.recording.success']);
  const recEvent = (await s.services.events.list({ roomId, type: 'beam.recording.success' }))[0];
  assert.equal(recEvent.data.recording_id, start.body.id);
  assert.equal(recEvent.data.size, asset.size);

  // the presigned URL downloads the file; a tampered one is refused
  const pre = await s.api('GET', `/v2/recording-assets/${asset.id}/presigned-url`);
  assert.equal(pre.status, 200);
  const dl = await fetch(pre.body.url);
  assert.equal(dl.status, 200);
  assert.equal(Number(dl.headers.get('content-length')), asset.size);
  await dl.arrayBuffer();
  assert.equal((await fetch(pre.body.url.replace(/sig=./, 'sig=x'))).status, 403);

  await alice.close();
  await bob.close();
});

test('auto-start on join and auto-stop after the last peer left (template config)', async () => {
  const tpl = await s.api('POST', '/v2/templates', {
    name: 'autorecord',
    recordings: [{ name: 'default', role: '__internal_recorder', compositeRecording: { browserComposite: { enabled: true, autoStart: true, autoStopTimeout: 3, width: 1280, height: 720 } } }],
  });
  assert.equal(tpl.status, 200, JSON.stringify(tpl.body));
  const roomId = (await s.api('POST', '/v2/rooms', { name: 'e2e-autorecord', template_id: tpl.body.id })).body.id;
  const codes = await roomCodes(roomId);
  const alice = await joinPeer(aliceBrowser, codes.host, 'Alice');
  const rec = await until('an auto-started recording', async () => (await s.api('GET', `/v2/recordings?room_id=${roomId}`)).body.data[0], 30_000);
  await waitStatus(rec.id, ['running']);
  await sleep(3000);
  await alice.close();
  const done = await waitStatus(rec.id, ['completed', 'failed'], 60_000);
  assert.equal(done.status, 'completed');
  assert.equal(done.stop_reason, 'last peer left');
  const stopped = (await s.services.events.list({ roomId, type: 'beam.stopped.success' }))[0];
  assert.equal(stopped.data.reason, 'last peer left');
  assert.equal(done.recording_assets.length, 1);
});

test('pause and resume: the paused span is left out of the one MP4', async () => {
  const roomId = (await s.api('POST', '/v2/rooms', { name: 'e2e-pause' })).body.id;
  const codes = await roomCodes(roomId);
  const alice = await joinPeer(aliceBrowser, codes.host, 'Alice');
  const start = await s.api('POST', `/v2/recordings/room/${roomId}/start`, {});
  await waitStatus(start.body.id, ['running']);
  await sleep(3000);
  const paused = await s.api('POST', `/v2/recordings/room/${roomId}/pause`);
  assert.equal(paused.status, 200);
  assert.equal(paused.body.status, 'running');
  assert.equal((await s.api('POST', `/v2/recordings/room/${roomId}/pause`)).status, 409, 'already paused');
  await sleep(5000);
  assert.equal((await s.api('POST', `/v2/recordings/room/${roomId}/resume`)).status, 200);
  await sleep(3000);
  await s.api('POST', `/v2/recordings/room/${roomId}/stop`);
  const done = await waitStatus(start.body.id, ['completed', 'failed']);
  assert.equal(done.status, 'completed', JSON.stringify(done));
  const file = s.services.localStorage.fileOf(done.recording_assets[0].path.replace('local://roomcast/', ''));
  const info = await probe(file);
  const wall = (Date.parse(done.stopped_at) - Date.parse(done.started_at)) / 1000;
  // about 6 s recorded of about 11 s of wall time: the 5 s pause is not in the file
  assert.ok(info.duration > 4 && info.duration < wall - 3.5, `duration ${info.duration}s of ${wall}s wall time`);
  const frames = await sampleFrames(file, 3, { pixFmt: 'rgb24' });
  assert.equal(frames.length, 3);
  for (const f of frames) assert.ok(share(f, isBlue) > 0.002, `frame at ${f.at}s does not show Alice's camera (luma ${f.meanLuma})`);
  await alice.close();
});

test('a recorder that cannot join fails with MAX_RETRIES_REACHED; a stop while starting gives BEAM_STOPPED', async () => {
  const s2 = await startTestServer({ RECORDER_WORKERS: '1', RECORDER_JOIN_TIMEOUT_SECONDS: '2' });
  try {
    const roomId = (await s2.api('POST', '/v2/rooms', { name: 'never-joins' })).body.id;
    // a page of this server that never reports "joined"
    const start = await s2.api('POST', `/v2/recordings/room/${roomId}/start`, { meeting_url: `${s2.url}/healthz` });
    assert.equal(start.status, 200);
    const r = await until('the recording to fail', async () => {
      const x = (await s2.api('GET', `/v2/recordings/${start.body.id}`)).body;
      return x.status === 'failed' ? x : null;
    }, 120_000, 500);
    assert.equal(r.error_type, 'MAX_RETRIES_REACHED');
    assert.equal(r.recording_assets, null);
    const failure = (await s2.services.events.list({ roomId, type: 'beam.failure' }))[0];
    assert.equal(failure.data.error_type, 'MAX_RETRIES_REACHED');

    const second = await s2.api('POST', `/v2/recordings/room/${roomId}/start`, { meeting_url: `${s2.url}/healthz` });
    assert.equal(second.status, 200);
    await sleep(1500);
    assert.equal((await s2.api('POST', `/v2/recordings/${second.body.id}/stop`)).status, 200);
    const stopped = await until('the stopped recording to end', async () => {
      const x = (await s2.api('GET', `/v2/recordings/${second.body.id}`)).body;
      return x.status === 'failed' || x.status === 'completed' ? x : null;
    }, 60_000, 500);
    assert.equal(stopped.status, 'failed');
    assert.equal(stopped.error_type, 'BEAM_STOPPED');
  } finally {
    await s2.stop();
  }
});
