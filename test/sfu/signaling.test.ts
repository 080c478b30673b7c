// The room-code exchange, joining over /ws, message checks, the heartbeat and shutdown — without media
// (the hls-viewer role neither publishes nor subscribes, so no RTCPeerConnection is made).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import WebSocket from 'ws';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { until } from '../helpers/meetingPeers.js';
import { createRoomCode, setRoomCodeEnabled } from '../../src/store/roomCodes.js';
import { verifyToken, signAppToken } from '../../src/auth/tokens.js';
import { TEST_KEYS } from '../helpers/server.js';

let s: TestServer;
let roomId: string;

before(async () => {
  s = await startTestServer({ PEER_TIMEOUT_SECONDS: '2' });
  roomId = (await s.api('POST', '/v2/rooms', { name: 'signaling-room' })).body.id;
});
after(() => s?.stop());

interface Client {
  ws: WebSocket;
  messages: any[];
  next(type: string): Promise<any>;
  closed: Promise<number>;
}

async function client(opts: { autoPong?: boolean } = {}): Promise<Client> {
  const ws = new WebSocket(`${s.url.replace('http', 'ws')}/ws`, { autoPong: opts.autoPong ?? true });
  const messages: any[] = [];
  const waiting: Array<{ type: string; resolve: (m: any) => void }> = [];
  ws.on('message', (d) => {
    const m = JSON.parse(d.toString());
    const i = waiting.findIndex((w) => w.type === m.type);
    if (i >= 0) waiting.splice(i, 1)[0].resolve(m);
    else messages.push(m);
  });
  const closed = new Promise<number>((r) => ws.on('close', (c) => r(c)));
  await new Promise((r, j) => ws.once('open', r).once('error', j));
  return {
    ws,
    messages,
    closed,
    next(type) {
      const i = messages.findIndex((m) => m.type === type);
      if (i >= 0) return Promise.resolve(messages.splice(i, 1)[0]);
      return new Promise((resolve) => waiting.push({ type, resolve }));
    },
  };
}

test('POST /v2/token exchanges a room code for an app token, without a management token', async () => {
  const code = await createRoomCode(s.services.store.db, roomId, 'guest');
  const ok = await s.api('POST', '/v2/token', { code: code.code, user_id: 'user-7' }, '');
  assert.equal(ok.status, 200);
  const claims = await verifyToken(TEST_KEYS, ok.body.token);
  assert.equal(claims.type, 'app');
  assert.equal(claims.room_id, roomId);
  assert.equal(claims.role, 'guest');
  assert.equal(claims.user_id, 'user-7');
  // without user_id a fresh one is made
  const anon = await s.api('POST', '/v2/token', { code: code.code }, '');
  assert.match(String((await verifyToken(TEST_KEYS, anon.body.token)).user_id), /^[0-9a-f-]{36}$/);

  assert.equal((await s.api('POST', '/v2/token', { code: 'nop-nope-nop' }, '')).status, 404);
  const extra = await s.api('POST', '/v2/token', { code: code.code, role: 'host' }, '');
  assert.equal(extra.status, 400);
  assert.equal((await s.api('POST', '/v2/token', {}, '')).status, 400);

  await setRoomCodeEnabled(s.services.store.db, code.code, false);
  // a disabled code answers exactly like an unknown one (codes cannot be probed)
  const disabledCode = await s.api('POST', '/v2/token', { code: code.code }, '');
  const unknownCode = await s.api('POST', '/v2/token', { code: 'nop-nope-nop' }, '');
  assert.equal(disabledCode.status, 404);
  assert.deepEqual(Object.keys(disabledCode.body), Object.keys(unknownCode.body));
  assert.equal(disabledCode.body.message, unknownCode.body.message);
  await setRoomCodeEnabled(s.services.store.db, code.code, true);

  const other = (await s.api('POST', '/v2/rooms', { name: 'signaling-disabled' })).body.id;
  const otherCode = await createRoomCode(s.services.store.db, other, 'host');
  await s.api('POST', `/v2/rooms/${other}`, { enabled: false });
  assert.equal((await s.api('POST', '/v2/token', { code: otherCode.code }, '')).status, 403);
  // the management API is still closed to anonymous callers
  assert.equal((await s.api('GET', '/v2/rooms', undefined, '')).status, 401);
});

test('the meeting page and its assets are served', async () => {
  const page = await fetch(`${s.url}/meeting/abc-defg-hij`);
  assert.equal(page.status, 200);
  assert.match(page.headers.get('content-type') ?? '', /text\/html/);
  assert.match(page.headers.get('content-security-policy') ?? '', /default-src 'self'/);
  const html = await page.text();
  assert.match(html, /\/meeting-assets\/meeting\.js/);
  assert.equal((await fetch(`${s.url}/preview/${roomId}/host?skip_preview=true`)).status, 200);
  const js = await fetch(`${s.url}/meeting-assets/meeting.js`);
  assert.equal(js.status, 200);
  assert.match(js.headers.get('content-type') ?? '', /javascript/);
  assert.equal((await fetch(`${s.url}/meeting-assets/meeting.css`)).status, 200);
  assert.equal((await fetch(`${s.url}/meeting-assets/../../package.json`)).status, 404);
});

test('joining checks the token: room, role, token kind', async () => {
  const cases: Array<[string, Record<string, unknown>, number]> = [
    ['management token', { token: s.token }, 403],
    ['role not in template', { token: await s.appToken(roomId, 'no-such-role') }, 403],
    ['unknown room', { token: await s.appToken('aaaaaaaaaaaaaaaaaaaaaaaa', 'host') }, 404],
    ['expired', { token: await signAppToken(TEST_KEYS, { room_id: roomId, role: 'host', user_id: '' }, -60) }, 401],
    ['URL names another role', { token: await s.appToken(roomId, 'guest'), role: 'host' }, 403],
  ];
  for (const [what, msg, code] of cases) {
    const c = await client();
    c.ws.send(JSON.stringify({ type: 'join', ...msg }));
    const err = await c.next('error');
    assert.equal(err.code, code, `${what}: ${err.message}`);
    assert.equal(await c.closed, 4000 + code, what);
  }
  const disabled = (await s.api('POST', '/v2/rooms', { name: 'signaling-off' })).body.id;
  await s.api('POST', `/v2/rooms/${disabled}`, { enabled: false });
  const c = await client();
  c.ws.send(JSON.stringify({ type: 'preview', token: await s.appToken(disabled, 'host') }));
  assert.match((await c.next('error')).message, /disabled/);
  c.ws.close();
  assert.equal(s.services.sfu.activePeers(roomId).length, 0);
});

test('bad messages get an error, not a crash; nothing before join', async () => {
  const c = await client();
  c.ws.send('not json');
  assert.equal((await c.next('error')).code, 400);
  c.ws.send(JSON.stringify({ type: 'join', token: 'x', extra: 1 }));
  assert.equal((await c.next('error')).code, 400);
  c.ws.send(JSON.stringify({ type: 'publish', tracks: [{ cid: 'a', kind: 'camera' }] }));
  assert.equal((await c.next('error')).code, 409);
  c.ws.send(JSON.stringify({ type: 'ping' }));
  await c.next('pong');
  c.ws.close();
});

test('a peer that stops answering pings is removed within the peer timeout', async () => {
  const viewer = await client({ autoPong: false });
  viewer.ws.send(JSON.stringify({ type: 'join', token: await s.appToken(roomId, 'hls-viewer', 'viewer-1'), name: 'Viewer' }));
  const joined = await viewer.next('joined');
  assert.equal(joined.role.name, 'hls-viewer');
  assert.deepEqual(joined.role.publish, []);
  const active = await s.api('GET', `/v2/active-rooms/${roomId}`);
  assert.equal(active.status, 200);
  assert.equal(active.body.peers[joined.peer_id].user_id, 'viewer-1');
  // a publish this role may not make is refused
  viewer.ws.send(JSON.stringify({ type: 'publish', tracks: [{ cid: 'c1', kind: 'camera' }] }));
  assert.deepEqual((await viewer.next('refused')).cids, ['c1']);
  // silence: no pongs, no messages
  const leave = await until(
    'heartbeat removal',
    async () => (await s.services.events.list({ type: 'peer.leave.success', roomId })).find((e) => e.data.peer_id === joined.peer_id),
    20_000,
  );
  assert.equal(leave.data.reason, 'server removed peer');
  assert.equal(leave.data.message, 'no heartbeat');
  assert.equal((await s.api('GET', `/v2/active-rooms/${roomId}`)).status, 404);
  const closes = await s.services.events.list({ type: 'session.close.success', roomId });
  assert.equal(closes.at(-1)?.data.session_id, joined.session_id);
});

test('server shutdown removes connected peers and closes their session', async () => {
  const c = await client();
  c.ws.send(JSON.stringify({ type: 'join', token: await s.appToken(roomId, 'hls-viewer'), name: 'Late' }));
  const joined = await c.next('joined');
  await s.services.sfu.close();
  const removed = await c.next('removed');
  assert.equal(removed.reason, 'server removed peer');
  assert.equal(removed.reconnect, true, 'a page tries again: the server may be restarting');
  const leave = (await s.services.events.list({ type: 'peer.leave.success', roomId })).find((e) => e.data.peer_id === joined.peer_id);
  assert.equal(leave?.data.reason, 'server removed peer');
  const closes = await s.services.events.list({ type: 'session.close.success', roomId });
  assert.equal(closes.at(-1)?.data.session_id, joined.session_id);
  assert.equal(await c.closed, 1000);
});
