// Composite recording end to end (seed 000): real Chromium peers with fake camera and microphone in a room,
// one sharing a screen; the seed's start call; the server's own recorder worker (Xvfb + PulseAudio + headful
// Chromium on the meeting page + one ffmpeg); stop; then the asset is checked with ffprobe and decoded frames.
// Also: auto-start/auto-stop from the template, a killed encoder leaving a playable partial asset, a recorder
// that cannot join (MAX_RETRIES_REACHED), and a stop while starting (BEAM_STOPPED).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { launchPeerBrowser, makeMediaFixtures, openPeerPage, until, waitJoined, sleep, type MediaFixtures, type PeerBrowser } from '../helpers/meetingPeers.js';
import { liveProcesses } from '../../src/recorder/proc.js';
import { audioLevel, probe, sampleFrames, type SampledFrame } from '../../src/recorder/probe.js';

let s: TestServer;
let aliceMedia: MediaFixtures;
let bobMedia: { dir: string; video: string; audio: string };
let aliceBrowser: PeerBrowser;
let bobBrowser: PeerBrowser;

/** Bob's camera is a flat green picture: its tile is easy to find in a recorded frame. */
function greenCamera(): { dir: string; video: string; audio: string } {
  const dir = mkdtempSync(join(tmpdir(), 'roomcast-green-'));
  const video = join(dir, 'green.y4m');
  const audio = join(dir, 'tone.wav');
  for (const args of [
    ['-f', 'lavfi', '-i', 'color=c=0x00c000:size=640x360:rate=15', '-t', '4', '-pix_fmt', 'yuv420p', video],
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
  bobMedia = greenCamera();
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

function greenShare(f: SampledFrame): number {
  let n = 0;
  for (let i = 0; i < f.data.length; i += 3) if (f.data[i + 1] > 140 && f.data[i] < 80 && f.data[i + 2] < 80) n++;
  return n / (f.width * f.height);
}

/** Share of pixels with strongly saturated colours of several hues (testsrc2 and the screen capture). */
function colourfulShare(f: SampledFrame): number {
  let n = 0;
  for (let i = 0; i < f.data.length; i += 3) {
    const [r, g, b] = [f.data[i], f.data[i + 1], f.data[i + 2]];
    const isGreenTile = g > 140 && r < 80 && b < 80;
    if (!isGreenTile && Math.max(r, g, b) - Math.min(r, g, b) > 90) n++;
  }
  return n / (f.width * f.height);
}

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
  const file = s.ctx.localStorage.fileOf(asset.path.replace('local://roomcast/', ''));
  const info = await probe(file);
  const v = info.streams.find((x) => x.type === 'video');
  const a = info.streams.find((x) => x.type === 'audio');
  assert.equal(v?.codec, 'h264');
  assert.equal(v?.width, 1280);
  assert.equal(v?.height, 720);
  assert.equal(a?.codec, 'aac');
  const runningSeconds = (stopAt - Date.parse(done.started_at)) / 1000;
  assert.ok(Math.abs(info.duration - runningSeconds) <= 1, `duration ${info.duration}s vs running time ${runningSeconds}s`);
  assert.ok(Math.abs(asset.duration - info.duration) <= 1);
  assert.ok(asset.size > 100_000, `size ${asset.size}`);

  const frames = await sampleFrames(file, 4, { pixFmt: 'rgb24', width: 320, height: 180 });
  assert.equal(frames.length, 4);
  for (const f of frames) {
    assert.ok(f.meanLuma > 20 && f.variance > 100, `frame at ${f.at}s is black or flat (luma ${f.meanLuma}, var ${f.variance})`);
    // more than one tile: Bob's green camera and colourful content (Alice's camera, the screen share)
    assert.ok(greenShare(f) > 0.01, `Bob's green tile not visible at ${f.at}s (${greenShare(f)})`);
    assert.ok(colourfulShare(f) > 0.02, `no colourful tile at ${f.at}s (${colourfulShare(f)})`);
  }
  const level = await audioLevel(file);
  assert.ok(level.maxDb > -40, `audio is silent (max ${level.maxDb} dB)`);

  // events of the job, in order
  const events = (await s.ctx.events.list({ roomId })).map((e) => e.type).filter((t) => t.startsWith('beam.'));
  assert.deepEqual(events, ['beam.started.success', 'beam.stopped.success', 'beam.recording.success']);
  const recEvent = (await s.ctx.events.list({ roomId, type: 'beam.recording.success' }))[0];
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
  const stopped = (await s.ctx.events.list({ roomId, type: 'beam.stopped.success' }))[0];
  assert.equal(stopped.data.reason, 'last peer left');
  assert.equal(done.recording_assets.length, 1);
});

test('the encoder killed mid-way: the recording fails but a playable partial asset remains', async () => {
  const roomId = (await s.api('POST', '/v2/rooms', { name: 'e2e-crash' })).body.id;
  const codes = await roomCodes(roomId);
  const alice = await joinPeer(aliceBrowser, codes.host, 'Alice');
  const start = await s.api('POST', `/v2/recordings/room/${roomId}/start`, {});
  await waitStatus(start.body.id, ['running']);
  await sleep(4000);
  const ffmpeg = liveProcesses().filter((p) => p.name === 'ffmpeg');
  assert.equal(ffmpeg.length, 1, JSON.stringify(liveProcesses()));
  process.kill(ffmpeg[0].pid, 'SIGKILL');
  const done = await waitStatus(start.body.id, ['completed', 'failed']);
  assert.equal(done.status, 'failed');
  assert.equal(done.error_type, 'INTERNAL_ERROR');
  assert.equal(done.recording_assets.length, 1, 'what was captured is kept');
  const asset = done.recording_assets[0];
  assert.equal(asset.metadata.partial, true);
  const file = s.ctx.localStorage.fileOf(asset.path.replace('local://roomcast/', ''));
  const info = await probe(file);
  assert.ok(info.duration > 2, `partial duration ${info.duration}`);
  const frames = await sampleFrames(file, 2);
  assert.equal(frames.length, 2);
  assert.ok(frames.every((f) => f.meanLuma > 20), 'partial frames decode and are not black');
  const failure = (await s.ctx.events.list({ roomId, type: 'beam.failure' }))[0];
  assert.equal(failure.data.error_type, 'INTERNAL_ERROR');
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
    const failure = (await s2.ctx.events.list({ roomId, type: 'beam.failure' }))[0];
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
