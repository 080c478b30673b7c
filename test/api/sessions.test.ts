// Sessions are filled by the SFU when peers join (a later issue); here rows are inserted directly to prove the API.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { objectId, uuid } from '../../src/clock.js';
import { RECORDER_ROLE } from '../../src/model/templates.js';
import type { PeerTable, SessionTable } from '../../src/store/schema.js';

let s: TestServer;
let roomA: string;
let roomB: string;
before(async () => {
  s = await startTestServer();
  roomA = (await s.api('POST', '/v2/rooms', { name: 'sessions-a' })).body.id;
  roomB = (await s.api('POST', '/v2/rooms', { name: 'sessions-b' })).body.id;
});
after(() => s.stop());

function hasDetail(body: any, part: string) {
  assert.ok(Array.isArray(body.details) && body.details.some((d: string) => d.includes(part)), `expected a detail naming ${part}: ${JSON.stringify(body)}`);
}

async function insertSession(roomId: string, createdAt: string, active: boolean): Promise<SessionTable> {
  const row: SessionTable = { id: objectId(), room_id: roomId, active: active ? 1 : 0, created_at: createdAt, updated_at: createdAt, ended_at: active ? null : createdAt };
  await s.services.store.db.insertInto('sessions').values(row).execute();
  return row;
}

async function insertPeer(session: SessionTable, over: Partial<PeerTable>): Promise<PeerTable> {
  const row: PeerTable = {
    id: uuid(),
    session_id: session.id,
    room_id: session.room_id,
    user_id: 'u',
    name: 'someone',
    role: 'guest',
    user_data: '',
    type: 'regular',
    joined_at: session.created_at,
    left_at: null,
    leave_reason: null,
    leave_message: null,
    ...over,
  };
  await s.services.store.db.insertInto('peers').values(row).execute();
  return row;
}

test('get a session: 100ms shape, peers keyed by peer id, the recorder left out', async () => {
  const sess = await insertSession(roomA, '2024-03-01T10:00:00.000Z', true);
  const alice = await insertPeer(sess, { name: 'Alice', role: 'host', user_id: 'user-alice', joined_at: '2024-03-01T10:00:01.000Z' });
  const bob = await insertPeer(sess, { name: 'Bob', user_id: 'user-bob', joined_at: '2024-03-01T10:00:05.000Z', left_at: '2024-03-01T10:20:00.000Z' });
  await insertPeer(sess, { name: 'Recorder', role: RECORDER_ROLE, user_id: 'recorder' });

  const r = await s.api('GET', `/v2/sessions/${sess.id}`);
  assert.equal(r.status, 200, JSON.stringify(r.body));
  assert.deepEqual(r.body, {
    id: sess.id,
    room_id: roomA,
    customer_id: s.services.customerId,
    active: true,
    peers: {
      [alice.id]: { id: alice.id, name: 'Alice', role: 'host', user_id: 'user-alice', joined_at: '2024-03-01T10:00:01.000Z', left_at: null },
      [bob.id]: { id: bob.id, name: 'Bob', role: 'guest', user_id: 'user-bob', joined_at: '2024-03-01T10:00:05.000Z', left_at: '2024-03-01T10:20:00.000Z' },
    },
    created_at: '2024-03-01T10:00:00.000Z',
    updated_at: '2024-03-01T10:00:00.000Z',
  });

  const empty = await insertSession(roomA, '2024-03-02T10:00:00.000Z', false);
  const e = await s.api('GET', `/v2/sessions/${empty.id}`);
  assert.equal(e.body.active, false);
  assert.deepEqual(e.body.peers, {});
});

test('unknown session → 404, malformed id → 400 naming the field', async () => {
  const r = await s.api('GET', '/v2/sessions/aaaaaaaaaaaaaaaaaaaaaaaa');
  assert.equal(r.status, 404);
  assert.equal(r.body.code, 404);
  hasDetail(r.body, 'aaaaaaaaaaaaaaaaaaaaaaaa');
  const bad = await s.api('GET', '/v2/sessions/bad$id');
  assert.equal(bad.status, 400);
  hasDetail(bad.body, 'params/id');
  assert.equal((await s.api('GET', '/v2/sessions', undefined, '')).status, 401);
});

test('list: newest first, filters room_id, active, after/before; pagination visits each once (ties on created_at too)', async () => {
  // room B: 23 sessions, some sharing a created_at so the page bound must break ties
  const made: SessionTable[] = [];
  for (let i = 0; i < 23; i++) {
    const minute = String(Math.floor(i / 3)).padStart(2, '0');
    made.push(await insertSession(roomB, `2024-05-01T12:${minute}:00.000Z`, i === 22));
  }
  const peer = await insertPeer(made[5], { name: 'Carol' });

  const seen: any[] = [];
  let start = '';
  for (let pages = 0; pages < 10; pages++) {
    const r = await s.api('GET', `/v2/sessions?room_id=${roomB}&limit=10${start ? `&start=${start}` : ''}`);
    assert.equal(r.status, 200, JSON.stringify(r.body));
    assert.equal(r.body.limit, 10);
    if (r.body.data.length === 0) break;
    seen.push(...r.body.data);
    assert.equal(r.body.last, r.body.data[r.body.data.length - 1].id);
    start = r.body.last;
  }
  assert.equal(seen.length, 23);
  for (const m of made) assert.equal(seen.filter((x) => x.id === m.id).length, 1);
  for (let i = 1; i < seen.length; i++) assert.ok(seen[i - 1].created_at >= seen[i].created_at, 'newest first');
  assert.ok(seen.every((x) => x.room_id === roomB));
  assert.equal(seen[0].id, made[22].id);
  assert.deepEqual(Object.keys(seen.find((x) => x.id === made[5].id).peers), [peer.id]);

  const active = await s.api('GET', `/v2/sessions?room_id=${roomB}&active=true`);
  assert.deepEqual(active.body.data.map((x: any) => x.id), [made[22].id]);
  const inactive = await s.api('GET', `/v2/sessions?room_id=${roomB}&active=false&limit=100`);
  assert.equal(inactive.body.data.length, 22);
  assert.ok(inactive.body.data.every((x: any) => x.active === false));

  // after/before are exclusive bounds on created_at, any RFC3339 offset
  const window = await s.api('GET', `/v2/sessions?room_id=${roomB}&after=${encodeURIComponent('2024-05-01T14:01:00+02:00')}&before=2024-05-01T12:04:00Z&limit=100`);
  assert.equal(window.status, 200);
  assert.deepEqual(
    window.body.data.map((x: any) => x.id).sort(),
    made.slice(6, 12).map((m) => m.id).sort(),
  );

  const all = await s.api('GET', '/v2/sessions?limit=100');
  assert.ok(all.body.data.some((x: any) => x.room_id === roomA));
  assert.ok(all.body.data.some((x: any) => x.room_id === roomB));
  const none = await s.api('GET', '/v2/sessions?room_id=aaaaaaaaaaaaaaaaaaaaaaaa');
  assert.equal(none.status, 200);
  assert.deepEqual(none.body.data, []);
  assert.equal(none.body.last, undefined);
});

test('list query errors → 400 naming the field', async () => {
  for (const [query, field] of [
    ['active=maybe', 'querystring/active'],
    ['after=yesterday', 'querystring/after'],
    ['before=2024-06-30T23:59:60Z', 'querystring/before'],
    ['limit=9', 'querystring/limit'],
    ['limit=101', 'querystring/limit'],
    ['room_id=bad$id', 'querystring/room_id'],
    ['start=aaaaaaaaaaaaaaaaaaaaaaaa', 'querystring/start'],
  ]) {
    const r = await s.api('GET', `/v2/sessions?${query}`);
    assert.equal(r.status, 400, query);
    assert.equal(r.body.code, 400);
    hasDetail(r.body, field);
  }
});
