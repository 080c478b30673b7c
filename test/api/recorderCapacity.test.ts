// Recorder capacity without media: a server with one recorder (RECORDER_WORKERS=1) whose worker is stopped, so
// the test claims jobs from the queue itself as a busy recorder would. Starts beyond the capacity say why they
// wait (`reason`: queue position, capacity, deadline), a stop of a waiting job ends it at once (BEAM_STOPPED,
// no asset), and the start timeout fails it as RECORDER_UNAVAILABLE with its failure event. With real
// recorders and peers: test/e2e/capacity.test.ts.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startTestServer, type TestServer } from '../helpers/server.js';

let s: TestServer;
before(async () => {
  s = await startTestServer({ RECORDER_WORKERS: '1', RECORDER_START_TIMEOUT_SECONDS: '60' });
  // the test is the recorder: it claims jobs itself and never launches a capture
  await s.services.recorder.stop();
});
after(() => s.stop());

async function room(name: string): Promise<string> {
  return (await s.api('POST', '/v2/rooms', { name })).body.id;
}

function deadlineOf(job: { created_at: string }): string {
  return new Date(Date.parse(job.created_at) + 60_000).toISOString();
}

async function jobEvents(roomId: string, prefix: string): Promise<Array<[string, unknown]>> {
  return (await s.services.events.list({ roomId })).filter((e) => e.type.startsWith(prefix)).map((e) => [e.type, e.data.error_type]);
}

test('starts beyond RECORDER_WORKERS say their queue position; a stop ends a waiting job at once; the start timeout fails it', async () => {
  const [roomA, roomB, roomC] = [await room('cap-a'), await room('cap-b'), await room('cap-c')];
  const a = (await s.api('POST', `/v2/recordings/room/${roomA}/start`, {})).body;
  assert.equal(a.status, 'starting');
  assert.equal(a.reason, undefined, 'the free recorder is about to take it: it waits for nobody');
  const claimed = await s.services.queue.claim('busy-recorder', ['recording', 'live-stream']);
  assert.equal(claimed?.jobId, a.id);

  const b = (await s.api('POST', `/v2/recordings/room/${roomB}/start`, {})).body;
  assert.equal(b.status, 'starting');
  assert.equal(
    b.reason,
    `queued: position 1 of 1, waiting for a free recorder (RECORDER_WORKERS=1); fails as RECORDER_UNAVAILABLE if none is free by ${deadlineOf(b)} (RECORDER_START_TIMEOUT_SECONDS=60)`,
  );
  // recordings and live streams share the machine's recorders
  const c = (await s.api('POST', `/v2/live-streams/room/${roomC}/start`, {})).body;
  assert.equal(c.status, 'starting');
  assert.match(c.reason, /^queued: position 2 of 2, waiting for a free recorder \(RECORDER_WORKERS=1\)/);
  assert.match((await s.api('GET', `/v2/live-streams/${c.id}`)).body.reason, /position 2 of 2/);
  assert.match((await s.api('GET', `/v2/recordings/${b.id}`)).body.reason, /position 1 of 2/);
  assert.match((await s.api('GET', `/v2/recordings?room_id=${roomB}`)).body.data[0].reason, /position 1 of 2/);
  assert.equal((await s.api('GET', `/v2/recordings/${a.id}`)).body.reason, undefined, 'a recorder holds it');

  // a waiting job has nothing to stop: it ends at once, no asset, only its failure event
  const stopped = await s.api('POST', `/v2/live-streams/${c.id}/stop`);
  assert.equal(stopped.status, 200);
  assert.equal(stopped.body.status, 'failed');
  assert.equal(stopped.body.error_type, 'BEAM_STOPPED');
  assert.equal(stopped.body.error_message, 'stop requested while the live stream waited for a free recorder');
  assert.equal((await s.api('GET', `/v2/live-streams/${c.id}`)).body.recording_assets, null);
  assert.deepEqual(await jobEvents(roomC, 'hls.'), [['hls.failure', 'BEAM_STOPPED']]);
  assert.equal(await s.services.queue.claim('busy-recorder', ['live-stream']), null, 'it left the queue');
  assert.match((await s.api('GET', `/v2/recordings/${b.id}`)).body.reason, /position 1 of 1/, 'the ones behind move up');

  // the start timeout counts from the start request
  await s.services.supervisor.sweep(Date.parse(b.created_at) + 59_000);
  assert.equal((await s.api('GET', `/v2/recordings/${b.id}`)).body.status, 'starting');
  await s.services.supervisor.sweep(Date.parse(b.created_at) + 60_000);
  const timedOut = (await s.api('GET', `/v2/recordings/${b.id}`)).body;
  assert.equal(timedOut.status, 'failed');
  assert.equal(timedOut.error_type, 'RECORDER_UNAVAILABLE');
  assert.equal(timedOut.error_message, 'no recorder became free within 60 s of the start request (RECORDER_WORKERS=1, all busy)');
  assert.equal(timedOut.stop_reason, 'failure: RECORDER_UNAVAILABLE');
  assert.equal(timedOut.reason, undefined);
  assert.equal(timedOut.recording_assets, null);
  assert.deepEqual(await jobEvents(roomB, 'beam.'), [['beam.failure', 'RECORDER_UNAVAILABLE']]);

  // the claimed job is its recorder's: not timed out, and a stop asks the recorder
  await s.services.supervisor.sweep(Date.parse(a.created_at) + 120_000);
  assert.equal((await s.api('GET', `/v2/recordings/${a.id}`)).body.status, 'starting');
  assert.equal((await s.api('POST', `/v2/recordings/${a.id}/stop`)).body.status, 'stopping');
  assert.deepEqual(await jobEvents(roomA, 'beam.'), []);
});
