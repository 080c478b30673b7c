// Recorder capacity with real peers and the server's own recorder (RECORDER_WORKERS=1): starts beyond the
// capacity say why they wait (queue position), a stop of a waiting start ends it at once, a start no recorder
// takes within RECORDER_START_TIMEOUT_SECONDS fails as RECORDER_UNAVAILABLE (beam.failure through a real webhook
// receiver) while the first recording goes on into a good MP4. And a stop while the recorder is launching
// (claimed, before its first frame counted) leaves no asset, no row-less file, and only the failure event.
// The same rules without media: test/api/recorderCapacity.test.ts.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import type { Page } from 'playwright-core';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { WebhookReceiver } from '../helpers/webhookReceiver.js';
import { launchPeerBrowser, makeMediaFixtures, openPeerPage, until, waitJoined, sleep, type MediaFixtures, type PeerBrowser } from '../helpers/meetingPeers.js';
import { liveProcesses } from '../../src/recorder/proc.js';
import { probe } from '../../src/recorder/probe.js';

const START_TIMEOUT_S = 8;
let s: TestServer;
const hooks = new WebhookReceiver();
let media: MediaFixtures;
let aliceBrowser: PeerBrowser;
let bobBrowser: PeerBrowser;

before(async () => {
  await hooks.listen();
  s = await startTestServer({
    RECORDER_WORKERS: '1',
    RECORDER_JOIN_TIMEOUT_SECONDS: '15',
    RECORDER_START_TIMEOUT_SECONDS: String(START_TIMEOUT_S),
    WEBHOOK_URL: hooks.url(),
    WEBHOOK_ALLOW_PRIVATE: 'true',
  });
  media = makeMediaFixtures();
  [aliceBrowser, bobBrowser] = await Promise.all([launchPeerBrowser(media), launchPeerBrowser(media)]);
});

after(async () => {
  await aliceBrowser?.close();
  await bobBrowser?.close();
  await s?.stop();
  await hooks.close();
  media?.remove();
  const left = liveProcesses();
  assert.deepEqual(left, [], `recorder processes left behind: ${JSON.stringify(left)}`);
});

async function roomWithPeer(pb: PeerBrowser, name: string): Promise<{ roomId: string; page: Page }> {
  const roomId = (await s.api('POST', '/v2/rooms', { name })).body.id;
  const codes = await s.api('POST', `/v2/room-codes/room/${roomId}`);
  const host = codes.body.data.find((c: any) => c.role === 'host').code;
  const page = await openPeerPage(pb, `${s.url}/meeting/${host}?skip_preview_headful=true&name=${name}`);
  await waitJoined(page, 60_000);
  return { roomId, page };
}

async function waitStatus(id: string, want: string[], timeoutMs = 90_000): Promise<any> {
  return until(`recording ${id} to be ${want.join('|')}`, async () => {
    const r = await s.api('GET', `/v2/recordings/${id}`);
    return want.includes(r.body.status) ? r.body : null;
  }, timeoutMs, 100);
}

/** The job's beam.* events as the server recorded them, in order. */
async function beamEvents(roomId: string): Promise<string[]> {
  return (await s.services.events.list({ roomId })).map((e) => e.type).filter((t) => t.startsWith('beam.'));
}

/** Files under DATA_DIR/assets that no asset row names: what a crash or a junk start would orphan. */
async function filesWithoutRow(): Promise<string[]> {
  const root = join(s.dataDir, 'assets');
  const keys = new Set((await s.services.store.db.selectFrom('assets').select('storage_key').execute()).map((a) => a.storage_key));
  const walk = (d: string): string[] => (existsSync(d) ? readdirSync(d).flatMap((n) => (statSync(join(d, n)).isDirectory() ? walk(join(d, n)) : [join(d, n)])) : []);
  return walk(root).map((f) => relative(root, f)).filter((k) => !keys.has(k));
}

async function queueState(jobId: string): Promise<string | undefined> {
  return (await s.services.store.db.selectFrom('job_queue').select('state').where('job_id', '=', jobId).executeTakeFirst())?.state;
}

test('3 starts with one recorder: the 2nd and 3rd say their queue position; a stop ends the 3rd at once; the 2nd fails RECORDER_UNAVAILABLE in time; the 1st records', async () => {
  const one = await roomWithPeer(aliceBrowser, 'cap-1');
  const two = await roomWithPeer(bobBrowser, 'cap-2');
  const threeRoom = (await s.api('POST', '/v2/rooms', { name: 'cap-3' })).body.id;

  // back to back, as a burst of starts would come
  const answers: Array<{ body: any; ms: number }> = [];
  for (const roomId of [one.roomId, two.roomId, threeRoom]) {
    const t0 = Date.now();
    const r = await s.api('POST', `/v2/recordings/room/${roomId}/start`, {});
    assert.equal(r.status, 200, JSON.stringify(r.body));
    answers.push({ body: r.body, ms: Date.now() - t0 });
  }
  const [first, second, third] = answers.map((a) => a.body);
  for (const r of [first, second, third]) assert.equal(r.status, 'starting');
  assert.equal(first.reason, undefined, 'the free recorder takes it');
  const deadline = new Date(Date.parse(second.created_at) + START_TIMEOUT_S * 1000).toISOString();
  assert.equal(
    second.reason,
    `queued: position 1 of 1, waiting for a free recorder (RECORDER_WORKERS=1); fails as RECORDER_UNAVAILABLE if none is free by ${deadline} (RECORDER_START_TIMEOUT_SECONDS=${START_TIMEOUT_S})`,
  );
  assert.match(third.reason, /^queued: position 2 of 2, waiting for a free recorder \(RECORDER_WORKERS=1\)/);
  console.log(`# start answers (reason in the answer) after ${answers.map((a) => a.ms).join(', ')} ms`);
  const got2 = (await s.api('GET', `/v2/recordings/${second.id}`)).body;
  assert.match(got2.reason, /^queued: position 1 of 2,/);
  assert.match((await s.api('GET', `/v2/recordings/${third.id}`)).body.reason, /^queued: position 2 of 2,/);

  // the 3rd, still waiting, is stopped: it ends at once
  const stopAt = Date.now();
  const stop3 = await s.api('POST', `/v2/recordings/${third.id}/stop`);
  console.log(`# stop of a waiting start answered after ${Date.now() - stopAt} ms with status ${stop3.body.status}`);
  assert.equal(stop3.status, 200);
  assert.equal(stop3.body.status, 'failed');
  assert.equal(stop3.body.error_type, 'BEAM_STOPPED');
  assert.equal((await s.api('GET', `/v2/recordings/${third.id}`)).body.recording_assets, null);
  assert.deepEqual(await beamEvents(threeRoom), ['beam.failure']);
  assert.match((await s.api('GET', `/v2/recordings/${second.id}`)).body.reason, /^queued: position 1 of 1,/);

  // the 2nd fails when its time is up, while the 1st still holds the recorder: not silently late
  const failed2 = await waitStatus(second.id, ['failed', 'running', 'completed'], 60_000);
  const firstMeanwhile = (await s.api('GET', `/v2/recordings/${first.id}`)).body.status;
  assert.equal(failed2.status, 'failed');
  assert.equal(failed2.error_type, 'RECORDER_UNAVAILABLE');
  assert.equal(failed2.error_message, `no recorder became free within ${START_TIMEOUT_S} s of the start request (RECORDER_WORKERS=1, all busy)`);
  assert.equal(failed2.recording_assets, null);
  assert.ok(['starting', 'running'].includes(firstMeanwhile), `the 1st still recording (${firstMeanwhile})`);
  const waited = (Date.parse(failed2.stopped_at) - Date.parse(failed2.created_at)) / 1000;
  assert.ok(waited >= START_TIMEOUT_S, `failed after ${waited} s, before its ${START_TIMEOUT_S} s`);
  console.log(`# RECORDER_START_TIMEOUT_SECONDS=${START_TIMEOUT_S}: failed ${waited.toFixed(3)} s after the start request`);
  assert.deepEqual(await beamEvents(two.roomId), ['beam.failure']);
  assert.equal(await queueState(second.id), 'done');

  // the failure events reached the customer's receiver
  const failures = await until('both beam.failure webhooks', () => {
    const got = hooks.accepted.filter((h) => h.body?.type === 'beam.failure');
    return got.length >= 2 ? got : null;
  }, 30_000);
  const byJob = Object.fromEntries(failures.map((h) => [h.body.data.job_id, h.body.data]));
  assert.equal(byJob[second.id].error_type, 'RECORDER_UNAVAILABLE');
  assert.match(byJob[second.id].error_message, /no recorder became free within 8 s/);
  assert.equal(byJob[third.id].error_type, 'BEAM_STOPPED');
  const others = hooks.accepted.filter((h) => h.body?.type?.startsWith('beam.') && h.body.type !== 'beam.failure').map((h) => h.body.data.job_id);
  assert.ok(!others.includes(second.id) && !others.includes(third.id), 'no started/stopped/success event for jobs that never started');

  // the 1st records as if nothing had happened
  const running = await waitStatus(first.id, ['running']);
  await sleep(6000);
  const stop1At = Date.now();
  assert.equal((await s.api('POST', `/v2/recordings/${first.id}/stop`)).body.status, 'stopping');
  const done = await waitStatus(first.id, ['completed', 'failed']);
  assert.equal(done.status, 'completed', JSON.stringify(done));
  const asset = done.recording_assets[0];
  const info = await probe(s.services.localStorage.fileOf(asset.path.replace('local://roomcast/', '')));
  const runningSeconds = (stop1At - Date.parse(running.started_at)) / 1000;
  console.log(`# the 1st: ${info.duration.toFixed(2)} s MP4 for ${runningSeconds.toFixed(2)} s running`);
  // the whole running span, up to a second (test/e2e/recording.test.ts holds it to that); on a machine loaded far
  // beyond its cores the encoder was seen to lose up to 2.3 s, which is not what this test is about
  assert.ok(info.duration <= runningSeconds + 1 && info.duration >= runningSeconds / 2, `duration ${info.duration} s vs running ${runningSeconds} s`);
  assert.ok(info.streams.some((x) => x.type === 'video' && x.codec === 'h264'));
  assert.deepEqual(await beamEvents(one.roomId), ['beam.started.success', 'beam.stopped.success', 'beam.recording.success']);
  assert.deepEqual(await filesWithoutRow(), []);
  await one.page.close();
  await two.page.close();
});

test('stop while the recorder is launching (claimed, before its first frame): no asset, no row-less file, only beam.failure BEAM_STOPPED', async () => {
  const { roomId, page } = await roomWithPeer(aliceBrowser, 'cap-launching');
  const start = (await s.api('POST', `/v2/recordings/room/${roomId}/start`, {})).body;
  await until('a recorder to claim the job', async () => (await queueState(start.id)) === 'claimed', 10_000, 10);
  const stopAt = Date.now();
  const stop = await s.api('POST', `/v2/recordings/${start.id}/stop`);
  assert.equal(stop.body.status, 'stopping', 'a recorder holds it: the recorder ends it');
  const done = await waitStatus(start.id, ['completed', 'failed']);
  console.log(`# stop while launching → ${done.status} after ${Date.now() - stopAt} ms`);
  assert.equal(done.status, 'failed');
  assert.equal(done.error_type, 'BEAM_STOPPED', done.error_message);
  assert.equal(done.started_at, null);
  assert.equal(done.recording_assets, null);
  assert.deepEqual(await beamEvents(roomId), ['beam.failure']);
  assert.deepEqual(await filesWithoutRow(), []);
  assert.equal(existsSync(join(s.dataDir, 'work', start.id)), false, 'the capture it began is gone');
  await page.close();
});

test('stop as the encoder writes its first bytes: either it never ran (no asset, beam.failure) or it ran (asset, started/stopped/success) — never a junk asset without beam.started', async () => {
  const { roomId, page } = await roomWithPeer(aliceBrowser, 'cap-first-frame');
  const start = (await s.api('POST', `/v2/recordings/room/${roomId}/start`, {})).body;
  const segment = join(s.dataDir, 'work', start.id, 'attempt-1', 'segment-0000.mp4');
  await until('the encoder to open its output', () => existsSync(segment), 90_000, 5);
  await s.api('POST', `/v2/recordings/${start.id}/stop`);
  const done = await waitStatus(start.id, ['completed', 'failed']);
  const events = await beamEvents(roomId);
  console.log(`# stop at the encoder's first bytes → ${done.status} ${done.error_type ?? ''}, assets ${done.recording_assets?.length ?? 0}, events ${events.join(',')}`);
  if (done.started_at) {
    assert.equal(done.status, 'completed');
    assert.equal(done.recording_assets.length, 1);
    assert.deepEqual(events, ['beam.started.success', 'beam.stopped.success', 'beam.recording.success']);
  } else {
    assert.equal(done.status, 'failed');
    assert.equal(done.error_type, 'BEAM_STOPPED');
    assert.equal(done.recording_assets, null);
    assert.deepEqual(events, ['beam.failure']);
  }
  assert.deepEqual(await filesWithoutRow(), []);
  await page.close();
});
