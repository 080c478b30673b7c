import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startTestServer, type TestServer } from '../helpers/server.js';

let s: TestServer;
before(async () => {
  s = await startTestServer();
});
after(() => s.stop());

test('create a room; the same name (any case) returns the same room, updated', async () => {
  const a = await s.api('POST', '/v2/rooms', { name: 'Weekly-Sync', description: 'first' });
  assert.equal(a.status, 200);
  assert.match(a.body.id, /^[0-9a-f]{24}$/);
  assert.equal(a.body.name, 'Weekly-Sync');
  assert.equal(a.body.enabled, true);
  assert.equal(a.body.template, 'default');
  assert.match(a.body.created_at, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/);
  const b = await s.api('POST', '/v2/rooms', { name: 'weekly-sync', description: 'second' });
  assert.equal(b.status, 200);
  assert.equal(b.body.id, a.body.id);
  assert.equal(b.body.description, 'second');
});

test('get, update, disable and re-enable a room', async () => {
  const { body: room } = await s.api('POST', '/v2/rooms', { name: 'toggle-me' });
  assert.equal((await s.api('GET', `/v2/rooms/${room.id}`)).body.name, 'toggle-me');
  const off = await s.api('POST', `/v2/rooms/${room.id}`, { enabled: false });
  assert.equal(off.status, 200);
  assert.equal(off.body.enabled, false);
  const listed = await s.api('GET', '/v2/rooms?enabled=false');
  assert.ok(listed.body.data.some((r: any) => r.id === room.id));
  const on = await s.api('POST', `/v2/rooms/${room.id}`, { enabled: true, description: 'back', webhook: { url: 'https://example.com/hook', headers: { 'x-k': 'v' } } });
  assert.equal(on.body.enabled, true);
  // header values are shown masked (a short one shows nothing of itself)
  assert.deepEqual(on.body.webhook, { url: 'https://example.com/hook', headers: { 'x-k': '****' } });
});

test('bad input → 400 naming the field; unknown ids → 404', async () => {
  const badName = await s.api('POST', '/v2/rooms', { name: 'no spaces/slashes' });
  assert.equal(badName.status, 400);
  assert.equal(badName.body.code, 400);
  assert.ok(badName.body.details.some((d: string) => d.includes('body/name')), JSON.stringify(badName.body));
  const badDur = await s.api('POST', '/v2/rooms', { name: 'r1', max_duration_seconds: 5 });
  assert.equal(badDur.status, 400);
  assert.ok(badDur.body.details.some((d: string) => d.includes('max_duration_seconds')));
  const extra = await s.api('POST', '/v2/rooms', { name: 'r2', colour: 'red' });
  assert.equal(extra.status, 400);
  assert.ok(extra.body.details.some((d: string) => d.includes('colour')));
  const tpl = await s.api('POST', '/v2/rooms', { name: 'r3', template_id: 'aaaaaaaaaaaaaaaaaaaaaaaa' });
  assert.equal(tpl.status, 400);
  const legacy = await s.api('POST', '/v2/rooms', { name: 'r4', template: 'x' });
  assert.equal(legacy.status, 400);
  const size = await s.api('POST', '/v2/rooms', { name: 'r5', size: 5000 });
  assert.equal(size.status, 400);
  assert.equal((await s.api('POST', '/v2/rooms', { name: 'r6', size: 5000, large_room: true })).status, 200);
  const notJson = await fetch(`${s.url}/v2/rooms`, { method: 'POST', headers: { authorization: `Bearer ${s.token}`, 'content-type': 'application/json' }, body: '{nope' });
  assert.equal(notJson.status, 400);
  const body = (await notJson.json()) as any;
  assert.equal(body.code, 400);
  assert.equal((await s.api('GET', '/v2/rooms/aaaaaaaaaaaaaaaaaaaaaaaa')).status, 404);
  assert.equal((await s.api('POST', '/v2/rooms/aaaaaaaaaaaaaaaaaaaaaaaa', { enabled: false })).status, 404);
  assert.equal((await s.api('GET', '/v2/rooms/bad$id')).status, 400);
  assert.equal((await s.api('GET', '/v2/rooms?limit=5')).status, 400);
  assert.equal((await s.api('GET', '/v2/rooms?limit=101')).status, 400);
});

test('pagination walks every room once, newest first', async () => {
  const made: string[] = [];
  for (let i = 0; i < 23; i++) made.push((await s.api('POST', '/v2/rooms', { name: `page-${i}` })).body.id);
  const seen: string[] = [];
  let start = '';
  for (let pages = 0; pages < 10; pages++) {
    const r = await s.api('GET', `/v2/rooms?limit=10${start ? `&start=${start}` : ''}`);
    assert.equal(r.status, 200);
    assert.equal(r.body.limit, 10);
    if (r.body.data.length === 0) break;
    seen.push(...r.body.data.map((x: any) => x.id));
    assert.equal(r.body.last, r.body.data[r.body.data.length - 1].id);
    start = r.body.last;
  }
  for (const id of made) assert.equal(seen.filter((x) => x === id).length, 1);
  const sorted = [...seen].sort().reverse();
  assert.deepEqual(seen, sorted);
  const byName = await s.api('GET', '/v2/rooms?name=PAGE-3');
  assert.equal(byName.body.data.length, 1);
});

test('room-level storage secrets are never echoed in full', async () => {
  const secret = 'super-secret-value-123456';
  const r = await s.api('POST', '/v2/rooms', {
    name: 'with-bucket',
    recording_info: { enabled: true, upload_info: { type: 's3', location: 'bkt', credentials: { key: 'AK', secret } } },
  });
  assert.equal(r.status, 200);
  assert.ok(!JSON.stringify(r.body).includes(secret));
  assert.equal(r.body.recording_info.upload_info.credentials.secret, '****3456');
  const got = await s.api('GET', `/v2/rooms/${r.body.id}`);
  assert.ok(!JSON.stringify(got.body).includes(secret));
  const list = await s.api('GET', '/v2/rooms?name=with-bucket');
  assert.ok(!JSON.stringify(list.body).includes(secret));
});
