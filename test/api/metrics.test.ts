// GET /metrics (Prometheus text, prom-client): a management token only (none → 401, an app token → 403); jobs
// by kind and status, the recorder queue and its free slots, the webhook and upload backlogs, read at each
// scrape. The SFU's rooms/peers/forwarded streams with real peers: test/e2e/recording.test.ts.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { recordAsset, roomWithStorage } from '../helpers/recordedAsset.js';
import { sample } from '../helpers/metrics.js';

let s: TestServer;
before(async () => {
  // webhooks and uploads aimed at a closed port: they stay in their backlogs
  s = await startTestServer({
    RECORDER_WORKERS: '1',
    RECORDER_START_TIMEOUT_SECONDS: '120',
    WEBHOOK_URL: 'http://127.0.0.1:1/hook',
    WEBHOOK_ALLOW_PRIVATE: 'true',
    STORAGE_ALLOW_PRIVATE: 'true',
  });
  await s.services.recorder.stop(); // the test is the recorder
});
after(() => s.stop());

test('/metrics: management token only; jobs, queue, free slots and backlogs as they are at the scrape', async () => {
  assert.equal((await s.api('GET', '/metrics', undefined, '')).status, 401);
  const roomA = (await s.api('POST', '/v2/rooms', { name: 'm-a' })).body.id;
  assert.equal((await s.api('GET', '/metrics', undefined, await s.appToken(roomA, 'host'))).status, 403);

  const idle = await s.api('GET', '/metrics');
  assert.equal(idle.status, 200);
  assert.match(idle.headers.get('content-type') ?? '', /^text\/plain; version=0\.0\.4/);
  assert.equal(sample(idle.body, 'roomcast_recorder_free_slots'), 1);
  assert.ok(sample(idle.body, 'roomcast_recorder_free_cpu_cores')! > 0, 'an idle recorder machine has CPU to give');
  assert.equal(sample(idle.body, 'roomcast_recorder_queue_jobs'), 0);
  assert.equal(sample(idle.body, 'roomcast_sfu_rooms'), 0);
  assert.ok(sample(idle.body, 'roomcast_process_resident_memory_bytes')! > 0, 'process metrics too');

  // one job held by a recorder, one waiting behind it
  const roomB = (await s.api('POST', '/v2/rooms', { name: 'm-b' })).body.id;
  await s.api('POST', `/v2/recordings/room/${roomA}/start`, {});
  assert.ok(await s.services.queue.claim('busy-recorder', ['recording', 'live-stream']));
  await s.api('POST', `/v2/recordings/room/${roomB}/start`, {});
  const stream = await s.api('POST', `/v2/live-streams/room/${roomB}/start`, { meeting_url: `${s.url}/preview/${roomB}/beam` });
  assert.equal(stream.status, 200, JSON.stringify(stream.body));
  // an asset whose store is unreachable: its upload waits
  const stored = await roomWithStorage(s, 'm-store', { type: 's3', location: 'b', options: { region: 'us-east-1', endpoint: 'http://127.0.0.1:1' }, credentials: { key: 'k', secretKey: 's' } });
  await recordAsset(s, stored, 1000);

  const busy = (await s.api('GET', '/metrics')).body as string;
  assert.equal(sample(busy, 'roomcast_recorder_free_slots'), 0);
  assert.equal(sample(busy, 'roomcast_recorder_queue_jobs'), 2);
  assert.ok(sample(busy, 'roomcast_recorder_queue_oldest_wait_seconds')! >= 0);
  assert.equal(sample(busy, 'roomcast_jobs{kind="recording",status="starting"}'), 2);
  assert.ok(sample(busy, 'roomcast_jobs{kind="recording",status="completed"}')! >= 1, 'the stored asset\'s recording');
  assert.equal(sample(busy, 'roomcast_jobs{kind="live-stream",status="starting"}'), 1);
  assert.ok(sample(busy, 'roomcast_upload_backlog')! >= 1, busy);
  assert.ok(sample(busy, 'roomcast_webhook_backlog')! >= 1, 'events to an unreachable receiver wait');
  assert.ok(!busy.includes(s.services.config.appSecret), 'no secret in the metrics');
});
