// The fleet's job dispatch: BullMQ on a real Redis (Debian redis-server, started here) with the job rows in a real
// PostgreSQL, as two machines would share them. One delivery, one claim; a worker that dies (no heartbeat, its
// connection gone) loses the job to another after the takeover time, and its late heartbeat is refused; a job
// BullMQ delivers again (its stalled lock) never gets a second claim; a node of a fleet without workers fails a
// start after RECORDER_START_TIMEOUT_SECONDS.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startRedis, type TestRedis } from '../helpers/redis.js';
import { startPostgres, type TestPostgres } from '../helpers/postgres.js';
import { openStore, type Store } from '../../src/store/db.js';
import { BullJobQueue, redisConnection } from '../../src/jobs/bullQueue.js';
import type { QueuedJob } from '../../src/jobs/queue.js';
import { startTestServer } from '../helpers/server.js';
import { waitFor } from '../helpers/webhookReceiver.js';
import { within } from '../helpers/meetingPeers.js';

const LOCK_MS = 2000;
const KINDS = ['recording', 'live-stream'] as const;
let redis: TestRedis;
let postgres: TestPostgres;
let store: Store;
const dir = mkdtempSync(join(tmpdir(), 'roomcast-bull-'));
const queues: BullJobQueue[] = [];

function machine(): BullJobQueue {
  const q = new BullJobQueue(store.db, redisConnection(redis.url), LOCK_MS);
  queues.push(q);
  return q;
}

async function claimWithin(q: BullJobQueue, worker: string, ms: number): Promise<QueuedJob | null> {
  const until = Date.now() + ms;
  do {
    const job = await q.claim(worker, [...KINDS]);
    if (job) return job;
    await new Promise((r) => setTimeout(r, 200));
  } while (Date.now() < until);
  return null;
}

before(async () => {
  [redis, postgres] = await Promise.all([startRedis(), startPostgres('roomcast_bull')]);
  store = await openStore(postgres.url, dir);
});

after(async () => {
  for (const q of queues) await q.close().catch(() => undefined);
  await store?.close();
  await Promise.all([redis?.stop(), postgres?.stop()]);
  rmSync(dir, { recursive: true, force: true });
});

test('REDIS_URL forms: redis:// and rediss:// with credentials and db; anything else refused', () => {
  assert.deepEqual(redisConnection('rediss://u:p%40ss@cache.internal:6380/2'), { host: 'cache.internal', port: 6380, username: 'u', password: 'p@ss', db: 2, tls: {}, maxRetriesPerRequest: null });
  assert.throws(() => redisConnection('http://cache:6379'), /redis:\/\/ or rediss:\/\//);
});

test('a job is delivered to one machine; the other gets nothing; complete ends it', async () => {
  const [a, b] = [machine(), machine()];
  await a.enqueue('recording', 'rec-1');
  const got = await claimWithin(a, 'worker-a', 5000);
  assert.equal(got?.jobId, 'rec-1');
  assert.equal(got?.attempts, 1);
  assert.equal(await b.claim('worker-b', [...KINDS]), null);
  assert.equal(await a.heartbeat(got!.id, 'worker-a'), true);
  assert.equal(await a.heartbeat(got!.id, 'worker-b'), false, 'only the holder heartbeats');
  await a.complete(got!.id);
  assert.equal(await b.claim('worker-b', [...KINDS]), null);
  const row = await store.db.selectFrom('job_queue').selectAll().where('id', '=', got!.id).executeTakeFirstOrThrow();
  assert.equal(row.state, 'done');
});

test('a machine that dies with a job: another takes it after the takeover time, once; the dead one is fenced off', async () => {
  const [dying, c, d] = [machine(), machine(), machine()];
  await dying.enqueue('live-stream', 'ls-1');
  const first = await claimWithin(dying, 'worker-dying', 5000);
  assert.equal(first?.jobId, 'ls-1');
  await dying.close(); // its Redis connections gone, no more heartbeats: the BullMQ lock expires
  assert.equal(await c.claim('worker-c', [...KINDS]), null, 'not before the takeover time');

  await new Promise((r) => setTimeout(r, LOCK_MS + 500));
  assert.equal(await c.requeueStale(LOCK_MS), 1, 'the database puts the stale claim back');
  const taken = await claimWithin(c, 'worker-c', 10_000);
  assert.equal(taken?.jobId, 'ls-1');
  assert.equal(taken?.attempts, 2);
  assert.equal(await c.heartbeat(taken!.id, 'worker-c'), true);
  assert.equal(await d.heartbeat(taken!.id, 'worker-dying'), false, 'the dead worker\'s late heartbeat is refused');

  // BullMQ also hands the stalled original out again: it finds the row claimed, so nobody else runs the job
  const twice = await claimWithin(d, 'worker-d', 2 * LOCK_MS + 1000);
  assert.equal(twice, null);
  const row = await store.db.selectFrom('job_queue').selectAll().where('id', '=', taken!.id).executeTakeFirstOrThrow();
  assert.equal(row.claimed_by, 'worker-c');
  await c.complete(taken!.id);
});

test('a draining machine hands its job over: another machine takes it at once, not after the takeover time', async () => {
  const [draining, other] = [machine(), machine()];
  await draining.enqueue('recording', 'rec-handover');
  const held = await claimWithin(draining, 'worker-draining', 5000);
  assert.equal(held?.jobId, 'rec-handover');
  assert.equal(await other.claim('worker-other', [...KINDS]), null);
  await draining.release(held!.id, 'worker-other');
  assert.equal(await other.claim('worker-other', [...KINDS]), null, 'only the holder gives a claim back');
  await draining.release(held!.id, 'worker-draining');
  const taken = await claimWithin(other, 'worker-other', LOCK_MS / 2);
  assert.equal(taken?.jobId, 'rec-handover', 'taken before the lock of the first delivery could expire');
  assert.equal(taken?.attempts, 1, 'a job given back is not a failed attempt');
  assert.equal(await draining.heartbeat(taken!.id, 'worker-draining'), false);
  await other.complete(taken!.id);
});

test('Redis away: a start is not held up and its job waits in the database; Redis back: it is delivered and claimed', async () => {
  const q = machine();
  assert.equal(await q.claim('worker-x', [...KINDS]), null); // its BullMQ worker and event listener exist now
  await redis.stop();
  const started = Date.now();
  await q.enqueue('recording', 'rec-in-outage');
  assert.ok(Date.now() - started < 5000, `enqueue took ${Date.now() - started} ms with Redis away`);
  const row = await store.db.selectFrom('job_queue').selectAll().where('job_id', '=', 'rec-in-outage').executeTakeFirstOrThrow();
  assert.equal(row.state, 'queued');
  const during = await within(q.claim('worker-x', [...KINDS]).then((j) => j?.jobId ?? null, () => 'failed'), 3000);
  assert.notEqual(during, 'rec-in-outage', 'no job comes from a Redis that is gone');
  redis = await startRedis(Number(new URL(redis.url).port)); // back, on the same address, empty
  // the job loops' periodic round (requeueStale) hands rows left queued to BullMQ again
  const got = await waitFor('the job delivered after the outage', async () => {
    await q.requeueStale(60_000).catch(() => 0);
    return q.claim('worker-x', [...KINDS]).catch(() => null);
  }, 30_000, 500);
  assert.equal(got.jobId, 'rec-in-outage');
  await q.complete(got.id);
});

test('a fleet node with no worker: the start says it waits for the fleet, then fails as RECORDER_UNAVAILABLE', async () => {
  const s = await startTestServer({ DATABASE_URL: postgres.url, REDIS_URL: redis.url, RECORDER_WORKERS: '0', RECORDER_START_TIMEOUT_SECONDS: '2' });
  try {
    const room = (await s.api('POST', '/v2/rooms', { name: 'fleet-nobody' })).body.id;
    const start = await s.api('POST', `/v2/recordings/room/${room}/start`, {});
    assert.equal(start.status, 200, JSON.stringify(start.body));
    assert.match(start.body.reason, /position 1 of 1, waiting for a free recorder of the fleet's workers; fails as RECORDER_UNAVAILABLE/);
    const failed = await waitFor('the start timeout', async () => {
      const r = (await s.api('GET', `/v2/recordings/${start.body.id}`)).body;
      return r.status === 'failed' ? r : null;
    }, 30_000);
    assert.equal(failed.error_type, 'RECORDER_UNAVAILABLE');
    assert.match(failed.error_message, /no worker of the fleet took it/);
  } finally {
    await s.stop();
  }
});

test('machines announce themselves for a ttl: the fleet sees those that report, not those that stopped', async () => {
  const [m1, m2] = [machine(), machine()];
  const report = (id: string, running: number) => ({ id, host: 'h', pid: 1, recorders: 2, running, cores: 2, freeCores: 1.6 - running * 0.75, draining: false, at: new Date().toISOString() });
  await m1.announce(report('w-1', 1), 60_000);
  await m2.announce(report('w-2', 0), 500);
  assert.deepEqual((await m1.machines()).map((m) => [m.id, m.running]), [['w-1', 1], ['w-2', 0]]);
  await new Promise((r) => setTimeout(r, 800));
  assert.deepEqual((await m2.machines()).map((m) => m.id), ['w-1'], 'a machine that stopped reporting is gone');
});
