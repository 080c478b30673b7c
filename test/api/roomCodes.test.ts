import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { generateRoomCode, resolveRoomCode } from '../../src/store/roomCodes.js';
import { isHiddenRole, RECORDER_ROLE } from '../../src/model/templates.js';
import { defaultRoles } from '../../src/domain/templateDefaults.js';

const CODE = /^[a-z]{3,4}-[a-z]{3,4}-[a-z]{3,4}$/;
const TIME = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/;
const MISSING_ROOM = 'aaaaaaaaaaaaaaaaaaaaaaaa';
const publicRoles = Object.keys(defaultRoles()).filter((r) => !isHiddenRole(r)).sort();

let s: TestServer;
before(async () => {
  s = await startTestServer();
});
after(() => s.stop());

async function newRoom(name: string): Promise<string> {
  const r = await s.api('POST', '/v2/rooms', { name });
  assert.equal(r.status, 200);
  return r.body.id;
}

function hasDetail(body: any, part: string) {
  assert.ok(Array.isArray(body.details) && body.details.some((d: string) => d.includes(part)), `expected a detail naming ${part}: ${JSON.stringify(body)}`);
}

test('generated codes: three groups of 3–4 lowercase letters, both lengths occur, no repeats', () => {
  const seen = new Set<string>();
  const lengths = new Set<number>();
  for (let i = 0; i < 2000; i++) {
    const c = generateRoomCode();
    assert.match(c, CODE);
    for (const g of c.split('-')) lengths.add(g.length);
    seen.add(c);
  }
  assert.deepEqual([...lengths].sort(), [3, 4]);
  assert.equal(seen.size, 2000);
});

test('room-wide create: one code per public role, none for the recorder; a second call reuses them', async () => {
  const roomId = await newRoom('codes-all');
  const r = await s.api('POST', `/v2/room-codes/room/${roomId}`);
  assert.equal(r.status, 200, JSON.stringify(r.body));
  assert.ok(Array.isArray(r.body.data));
  assert.deepEqual(r.body.data.map((c: any) => c.role).sort(), publicRoles);
  assert.ok(!r.body.data.some((c: any) => c.role === RECORDER_ROLE));
  for (const c of r.body.data) {
    assert.match(c.code, CODE);
    assert.equal(c.room_id, roomId);
    assert.equal(c.enabled, true);
    assert.match(c.created_at, TIME);
    assert.match(c.updated_at, TIME);
    assert.deepEqual(Object.keys(c).sort(), ['code', 'created_at', 'enabled', 'role', 'room_id', 'updated_at']);
  }
  assert.equal(new Set(r.body.data.map((c: any) => c.code)).size, publicRoles.length);

  const again = await s.api('POST', `/v2/room-codes/room/${roomId}`);
  assert.equal(again.status, 200);
  const byRole = (d: any[]) => Object.fromEntries(d.map((c) => [c.role, c.code]));
  assert.deepEqual(byRole(again.body.data), byRole(r.body.data));

  // the meeting page's exchange sees the same room and role
  const guest = r.body.data.find((c: any) => c.role === 'guest');
  assert.deepEqual(await resolveRoomCode(s.services.store.db, guest.code), { room_id: roomId, role: 'guest', enabled: true });
  assert.equal(await resolveRoomCode(s.services.store.db, 'zzz-zzzz-zzz'), null);
});

test('per-role create mints a new code each time; unknown or hidden role → 404, bad role → 400', async () => {
  const roomId = await newRoom('codes-role');
  const a = await s.api('POST', `/v2/room-codes/room/${roomId}/role/host`);
  assert.equal(a.status, 200, JSON.stringify(a.body));
  assert.match(a.body.code, CODE);
  assert.equal(a.body.role, 'host');
  assert.equal(a.body.room_id, roomId);
  assert.equal(a.body.enabled, true);
  const b = await s.api('POST', `/v2/room-codes/room/${roomId}/role/host`);
  assert.equal(b.status, 200);
  assert.notEqual(b.body.code, a.body.code);

  const unknown = await s.api('POST', `/v2/room-codes/room/${roomId}/role/pilot`);
  assert.equal(unknown.status, 404);
  assert.equal(unknown.body.code, 404);
  assert.equal(unknown.body.message, 'role not found');
  const hidden = await s.api('POST', `/v2/room-codes/room/${roomId}/role/${RECORDER_ROLE}`);
  assert.equal(hidden.status, 404);
  const badRole = await s.api('POST', `/v2/room-codes/room/${roomId}/role/${encodeURIComponent('no spaces')}`);
  assert.equal(badRole.status, 400);
  hasDetail(badRole.body, 'params/role');
  const list = await s.api('GET', `/v2/room-codes/room/${roomId}?role=${RECORDER_ROLE}`);
  assert.equal(list.body.data.length, 0);
});

test('unknown room → 404, disabled room → 403 on create (listing still works), bad id → 400', async () => {
  for (const [method, path] of [
    ['POST', `/v2/room-codes/room/${MISSING_ROOM}`],
    ['POST', `/v2/room-codes/room/${MISSING_ROOM}/role/host`],
    ['GET', `/v2/room-codes/room/${MISSING_ROOM}`],
  ]) {
    const r = await s.api(method, path);
    assert.equal(r.status, 404, `${method} ${path}`);
    assert.equal(r.body.code, 404);
    hasDetail(r.body, MISSING_ROOM);
  }
  const bad = await s.api('POST', '/v2/room-codes/room/bad$id');
  assert.equal(bad.status, 400);
  hasDetail(bad.body, 'params/room_id');

  const roomId = await newRoom('codes-disabled');
  const made = await s.api('POST', `/v2/room-codes/room/${roomId}`);
  assert.equal(made.status, 200);
  assert.equal((await s.api('POST', `/v2/rooms/${roomId}`, { enabled: false })).status, 200);
  const all = await s.api('POST', `/v2/room-codes/room/${roomId}`);
  assert.equal(all.status, 403);
  assert.equal(all.body.code, 403);
  assert.equal((await s.api('POST', `/v2/room-codes/room/${roomId}/role/guest`)).status, 403);
  const listed = await s.api('GET', `/v2/room-codes/room/${roomId}`);
  assert.equal(listed.status, 200);
  assert.equal(listed.body.data.length, publicRoles.length);
  assert.equal((await s.api('POST', `/v2/room-codes/room/${roomId}`, undefined, '')).status, 401);
});

test('disable and re-enable a code; filters see it; the room-wide create replaces a disabled code', async () => {
  const roomId = await newRoom('codes-toggle');
  const { body } = await s.api('POST', `/v2/room-codes/room/${roomId}`);
  const guest = body.data.find((c: any) => c.role === 'guest');

  const off = await s.api('POST', '/v2/room-codes/code', { code: guest.code, enabled: false });
  assert.equal(off.status, 200, JSON.stringify(off.body));
  assert.equal(off.body.code, guest.code);
  assert.equal(off.body.enabled, false);
  assert.equal(off.body.role, 'guest');
  assert.equal(off.body.created_at, guest.created_at);
  assert.ok(off.body.updated_at >= guest.updated_at);
  assert.equal((await resolveRoomCode(s.services.store.db, guest.code))?.enabled, false);

  const disabled = await s.api('GET', `/v2/room-codes/room/${roomId}?enabled=false`);
  assert.deepEqual(disabled.body.data.map((c: any) => c.code), [guest.code]);
  const enabled = await s.api('GET', `/v2/room-codes/room/${roomId}?enabled=true`);
  assert.ok(!enabled.body.data.some((c: any) => c.code === guest.code));
  assert.equal(enabled.body.data.length, publicRoles.length - 1);

  // the guest role has no enabled code now: a room-wide create makes a fresh one and keeps the others
  const again = await s.api('POST', `/v2/room-codes/room/${roomId}`);
  const newGuest = again.body.data.find((c: any) => c.role === 'guest');
  assert.notEqual(newGuest.code, guest.code);
  assert.equal(again.body.data.find((c: any) => c.role === 'host').code, body.data.find((c: any) => c.role === 'host').code);

  const on = await s.api('POST', '/v2/room-codes/code', { code: guest.code, enabled: true });
  assert.equal(on.status, 200);
  assert.equal(on.body.enabled, true);
  assert.equal((await s.api('GET', `/v2/room-codes/room/${roomId}?enabled=false`)).body.data.length, 0);
});

test('update body errors: extra field, non-boolean, missing field, bad format → 400 naming the field; unknown code → 404', async () => {
  const roomId = await newRoom('codes-errors');
  const { body } = await s.api('POST', `/v2/room-codes/room/${roomId}/role/host`);
  const extra = await s.api('POST', '/v2/room-codes/code', { code: body.code, enabled: false, role: 'guest' });
  assert.equal(extra.status, 400);
  hasDetail(extra.body, 'body/role');
  for (const value of ['false', 0, 1, null, 'yes']) {
    const r = await s.api('POST', '/v2/room-codes/code', { code: body.code, enabled: value });
    assert.equal(r.status, 400, `enabled=${JSON.stringify(value)}`);
    hasDetail(r.body, 'body/enabled');
  }
  const missing = await s.api('POST', '/v2/room-codes/code', { code: body.code });
  assert.equal(missing.status, 400);
  hasDetail(missing.body, 'body/enabled');
  const format = await s.api('POST', '/v2/room-codes/code', { code: 'NOT-A-CODE', enabled: true });
  assert.equal(format.status, 400);
  hasDetail(format.body, 'body/code');
  const unknown = await s.api('POST', '/v2/room-codes/code', { code: 'zzz-zzzz-zzz', enabled: true });
  assert.equal(unknown.status, 404);
  assert.equal(unknown.body.code, 404);
  // the failed updates changed nothing
  assert.equal((await resolveRoomCode(s.services.store.db, body.code))?.enabled, true);
});

test('listing: newest first, pagination visits every code once, role filter, limit and start checked', async () => {
  const roomId = await newRoom('codes-pages');
  const made: string[] = [];
  for (let i = 0; i < 23; i++) made.push((await s.api('POST', `/v2/room-codes/room/${roomId}/role/${i % 2 ? 'guest' : 'host'}`)).body.code);
  const seen: any[] = [];
  let start = '';
  for (let pages = 0; pages < 10; pages++) {
    const r = await s.api('GET', `/v2/room-codes/room/${roomId}?limit=10${start ? `&start=${start}` : ''}`);
    assert.equal(r.status, 200, JSON.stringify(r.body));
    assert.equal(r.body.limit, 10);
    assert.ok(r.body.data.length <= 10);
    if (r.body.data.length === 0) break;
    seen.push(...r.body.data);
    assert.equal(r.body.last, r.body.data[r.body.data.length - 1].code);
    start = r.body.last;
  }
  assert.equal(seen.length, 23);
  for (const code of made) assert.equal(seen.filter((c) => c.code === code).length, 1);
  for (let i = 1; i < seen.length; i++) assert.ok(seen[i - 1].created_at >= seen[i].created_at, 'newest first');

  const hosts = await s.api('GET', `/v2/room-codes/room/${roomId}?role=host&limit=100`);
  assert.equal(hosts.body.data.length, 12);
  assert.ok(hosts.body.data.every((c: any) => c.role === 'host'));

  const small = await s.api('GET', `/v2/room-codes/room/${roomId}?limit=5`);
  assert.equal(small.status, 400);
  hasDetail(small.body, 'querystring/limit');
  assert.equal((await s.api('GET', `/v2/room-codes/room/${roomId}?limit=101`)).status, 400);
  const badStart = await s.api('GET', `/v2/room-codes/room/${roomId}?start=zzz-zzzz-zzz`);
  assert.equal(badStart.status, 400);
  hasDetail(badStart.body, 'querystring/start');
  // a code of another room is no bound for this one
  const other = await newRoom('codes-pages-other');
  assert.equal((await s.api('GET', `/v2/room-codes/room/${other}?start=${made[0]}`)).status, 400);
  const badEnabled = await s.api('GET', `/v2/room-codes/room/${roomId}?enabled=maybe`);
  assert.equal(badEnabled.status, 400);
  hasDetail(badEnabled.body, 'querystring/enabled');
});
