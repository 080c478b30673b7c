// Durable delivery: the receiver's port closed through three failed attempts (~4 s, then the next retry 10 s on): everything arrives, in order per room;
// the server restarted while deliveries are being retried: still delivered, once each.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { WebhookReceiver, waitFor } from '../helpers/webhookReceiver.js';

const cleanups: Array<() => Promise<void> | void> = [];
after(async () => {
  for (const c of cleanups.reverse()) await c();
});

async function roomsOf(s: TestServer, names: string[]): Promise<string[]> {
  const ids: string[] = [];
  for (const name of names) ids.push((await s.api('POST', '/v2/rooms', { name })).body.id);
  return ids;
}

test('receiver down (port closed) through three attempts, then back: every event arrives once, in order per room', async (t) => {
  const rx = new WebhookReceiver();
  await rx.listen();
  const port = rx.port;
  cleanups.push(() => rx.close());
  const s = await startTestServer({ WEBHOOK_URL: rx.url('/h'), WEBHOOK_ALLOW_PRIVATE: 'true', RECORDER_WORKERS: '0' });
  cleanups.push(() => s.stop());
  const rooms = await roomsOf(s, ['down-a', 'down-b']);

  await rx.close();
  const downAt = Date.now();
  const emitted: Record<string, string[]> = { [rooms[0]]: [], [rooms[1]]: [] };
  for (let i = 0; i < 5; i++) {
    for (const r of rooms) emitted[r].push((await s.services.events.emit(i % 2 ? 'peer.leave.success' : 'peer.join.success', r, { room_id: r, n: i })).id);
  }
  // while it is down, deliveries are being retried, not lost
  await waitFor('retries to happen', async () => {
    const rows = await s.services.store.db.selectFrom('webhook_deliveries').select('attempts').where('status', '=', 'pending').where('room_id', 'in', rooms).execute();
    return rows.some((r) => r.attempts >= 3);
  }, 30_000);
  assert.equal(rx.accepted.length, 0);
  await rx.listen(port);
  t.diagnostic(`receiver back after ${Math.round((Date.now() - downAt) / 1000)} s`);

  const all = [...emitted[rooms[0]], ...emitted[rooms[1]]];
  await waitFor('all events after the outage', () => all.every((id) => rx.ids().includes(id)), 90_000);
  t.diagnostic(`all delivered ${Math.round((Date.now() - downAt) / 1000)} s after the outage began`);
  await new Promise((r) => setTimeout(r, 1000));
  assert.equal(rx.accepted.length, all.length, 'no duplicates');
  for (const r of rooms) assert.deepEqual(rx.ids((a) => a.body.data.room_id === r), emitted[r]);
  const log = await s.api('GET', `/v2/analytics/webhooks?room_id=${rooms[0]}&status=success`);
  const first = log.body.events.find((e: any) => e.event_id === emitted[rooms[0]][0]);
  assert.ok(first.payload.attempts >= 4, `attempts ${first.payload.attempts}`);
});

test('server restarted while a delivery is being retried: it is delivered after the restart, once', async () => {
  const rx = new WebhookReceiver();
  await rx.listen();
  cleanups.push(() => rx.close());
  rx.failing = true;
  const dir = mkdtempSync(join(tmpdir(), 'roomcast-wh-restart-'));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  const env = { WEBHOOK_URL: rx.url('/h'), WEBHOOK_ALLOW_PRIVATE: 'true', RECORDER_WORKERS: '0' };
  let s = await startTestServer(env, dir);
  const [room] = await roomsOf(s, ['restart-a']);
  const ids: string[] = [];
  for (let i = 0; i < 3; i++) ids.push((await s.services.events.emit('peer.join.success', room, { room_id: room, n: i })).id);
  await waitFor('the first delivery to have failed twice', async () => {
    const d = await s.services.store.db.selectFrom('webhook_deliveries').select('attempts').where('event_id', '=', ids[0]).executeTakeFirst();
    return (d?.attempts ?? 0) >= 2;
  }, 30_000);
  assert.equal(rx.accepted.length, 0);
  await s.stop();

  rx.failing = false;
  s = await startTestServer(env, dir);
  cleanups.push(() => s.stop());
  await waitFor('delivery after the restart', () => ids.every((id) => rx.ids().includes(id)), 60_000);
  await new Promise((r) => setTimeout(r, 1000));
  assert.deepEqual(rx.ids(), ids, 'once each, in order');
  // nothing was fanned out twice: one delivery row per event
  const rows = await s.services.store.db.selectFrom('webhook_deliveries').select(['event_id', 'status']).where('event_id', 'in', ids).execute();
  assert.equal(rows.length, 3);
  assert.ok(rows.every((r) => r.status === 'success'));
});
