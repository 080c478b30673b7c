// A recording's handler process (recorder/handler.ts: the job's Chromium + ffmpeg) is SIGKILLed mid-way, as an
// out-of-memory kill would: the server stays up, the SFU keeps its peers (two real Chromium peers stay
// joined), the handler's leftover processes are stopped (encoder first, so its last fragment is finished)
// and their directories removed, and the capture is relaunched in a new handler: the recording completes
// with one asset whose metadata.gaps names the kill (test/e2e/recorderRelaunch.test.ts: Chromium, ffmpeg).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import type { Page } from 'playwright-core';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { launchPeerBrowser, makeMediaFixtures, openPeerPage, until, waitJoined, sleep, type MediaFixtures, type PeerBrowser } from '../helpers/meetingPeers.js';
import { liveProcesses } from '../../src/recorder/proc.js';
import { probe, sampleFrames } from '../../src/recorder/probe.js';

let s: TestServer;
let media: MediaFixtures;
let peers: PeerBrowser;

before(async () => {
  s = await startTestServer({ RECORDER_WORKERS: '1', RECORDER_JOIN_TIMEOUT_SECONDS: '15' });
  media = makeMediaFixtures();
  peers = await launchPeerBrowser(media);
});

after(async () => {
  await peers?.close();
  await s?.stop();
  media?.remove();
  const left = liveProcesses();
  assert.deepEqual(left, [], `recorder processes left behind: ${JSON.stringify(left)}`);
});

function alive(pid: number): boolean {
  try {
    return !readFileSync(`/proc/${pid}/stat`, 'utf8').includes(') Z ');
  } catch {
    return false;
  }
}

async function joinPeer(code: string, name: string): Promise<Page> {
  const page = await openPeerPage(peers, `${s.url}/meeting/${code}?skip_preview_headful=true&name=${name}`);
  await waitJoined(page, 60_000);
  return page;
}

test('SIGKILL of a recording\'s handler process: server and peers unharmed, the capture relaunched, one asset with the gap', async () => {
  const roomId = (await s.api('POST', '/v2/rooms', { name: 'e2e-handler-kill' })).body.id;
  const codes = Object.fromEntries((await s.api('POST', `/v2/room-codes/room/${roomId}`)).body.data.map((c: any) => [c.role, c.code]));
  const alice = await joinPeer(codes.host, 'Alice');
  const bob = await joinPeer(codes.guest, 'Bob');
  const start = await s.api('POST', `/v2/recordings/room/${roomId}/start`, {});
  assert.equal(start.status, 200, JSON.stringify(start.body));
  const id = start.body.id;
  await until('running', async () => (await s.api('GET', `/v2/recordings/${id}`)).body.status === 'running', 90_000, 300);
  await sleep(6000);

  const handlers = liveProcesses().filter((p) => p.name === 'recorder-handler');
  assert.equal(handlers.length, 1, JSON.stringify(liveProcesses()));
  // what the handler runs for the job: the display, the browser, the encoder
  const children = liveProcesses().filter((p) => p.name !== 'recorder-handler');
  assert.deepEqual([...new Set(children.map((p) => p.name))].sort(), ['chromium', 'ffmpeg', 'pulseaudio', 'xvfb']);
  // their per-job directories (PulseAudio runtime, Chromium profile), named on their command lines
  const dirsOf = (pid: number) =>
    readFileSync(`/proc/${pid}/cmdline`, 'utf8')
      .split('\0')
      .flatMap((a) => /(\/tmp\/roomcast-[^/]+)\/pulse\/daemon\.pa$/.exec(a)?.[1] ?? /^--user-data-dir=(.+)$/.exec(a)?.[1] ?? []);
  const jobDirs = children.filter((p) => p.name === 'pulseaudio' || p.name === 'chromium').flatMap((p) => dirsOf(p.pid));
  assert.equal(jobDirs.length, 2, JSON.stringify(jobDirs));
  process.kill(handlers[0].pid, 'SIGKILL');

  // what the dead handler left is stopped and removed, and the capture is relaunched in a new handler
  await until('the killed handler\'s processes and directories to go', () => children.every((p) => !alive(p.pid)) && jobDirs.every((d) => !existsSync(d)), 30_000, 200);
  await until('a new handler', () => liveProcesses().some((p) => p.name === 'recorder-handler' && p.pid !== handlers[0].pid), 90_000, 200);
  await until('the new handler\'s encoder', () => liveProcesses().some((p) => p.name === 'ffmpeg' && !children.some((c) => c.pid === p.pid)), 90_000, 200);
  await sleep(6000);
  assert.equal((await s.api('POST', `/v2/recordings/${id}/stop`)).status, 200);
  const done = await until('the recording to end', async () => {
    const r = (await s.api('GET', `/v2/recordings/${id}`)).body;
    return r.status === 'failed' || r.status === 'completed' ? r : null;
  }, 90_000, 300);
  assert.equal(done.status, 'completed', JSON.stringify(done));
  assert.equal(done.recording_assets.length, 1, 'one asset: before and after the relaunch');
  const asset = done.recording_assets[0];
  assert.equal(asset.metadata.partial, undefined);
  assert.equal(asset.metadata.gaps?.length, 1, JSON.stringify(asset.metadata));
  assert.match(asset.metadata.gaps[0].reason, /^recorder handler exited \(SIGKILL\)$/);
  const file = s.services.localStorage.fileOf(asset.path.replace('local://roomcast/', ''));
  const info = await probe(file);
  assert.ok(info.duration > 6, `duration ${info.duration}`);
  assert.equal(info.streams.find((x) => x.type === 'video')?.codec, 'h264');
  assert.equal((await sampleFrames(file, 2)).length, 2, 'frames decode');
  assert.ok((await s.services.events.list({ roomId, type: 'beam.recording.success' }))[0], 'beam.recording.success sent');
  assert.equal((await s.services.events.list({ roomId, type: 'beam.failure' })).length, 0);

  // the server and the SFU did not notice: both peers are still in the room, still joined, still answered
  assert.equal((await fetch(`${s.url}/healthz`)).status, 200);
  const visible = s.services.sfu.activePeers(roomId).map((p) => p.name).sort();
  assert.deepEqual(visible, ['Alice', 'Bob']);
  for (const page of [alice, bob]) assert.equal(await page.evaluate(() => document.body.dataset.joined), 'true');
  // and recording again in the same room works
  const again = await s.api('POST', `/v2/recordings/room/${roomId}/start`, {});
  assert.equal(again.status, 200, JSON.stringify(again.body));
  await until('running again', async () => (await s.api('GET', `/v2/recordings/${again.body.id}`)).body.status === 'running', 90_000, 300);
  assert.equal((await s.api('POST', `/v2/recordings/${again.body.id}/stop`)).status, 200);
  const second = await until('the second recording to end', async () => {
    const r = (await s.api('GET', `/v2/recordings/${again.body.id}`)).body;
    return r.status === 'failed' || r.status === 'completed' ? r : null;
  }, 90_000, 300);
  assert.equal(second.status, 'completed', JSON.stringify(second));
  await alice.close();
  await bob.close();
});
