// Limits that hold under abuse: role maxPeerCount and room size under concurrent joins, the session limit,
// flooding a socket, frame and user_data sizes, the deadline for a socket that does not join.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { until } from '../helpers/meetingPeers.js';
import { wsClient, type WsClient } from './wsClient.js';

let s: TestServer;
before(async () => {
  s = await startTestServer();
});
after(() => s?.stop());

/** joins `count` sockets at once; returns the outcome of each: 'joined' or the error code */
async function joinAtOnce(count: number, token: string): Promise<{ outcomes: Array<'joined' | number>; clients: WsClient[] }> {
  const clients = await Promise.all(Array.from({ length: count }, () => wsClient(s.url)));
  for (const c of clients) c.send({ type: 'join', token, name: 'racer' });
  const outcomes = await Promise.all(clients.map((c) => Promise.race([c.next('joined').then(() => 'joined' as const), c.next('error').then((e) => e.code as number)])));
  return { outcomes, clients };
}

async function closeAll(clients: WsClient[]): Promise<void> {
  for (const c of clients) c.ws.close();
  await Promise.all(clients.map((c) => c.closed));
}

test('a role with maxPeerCount N: of many concurrent joins exactly N get in', async () => {
  const template = (await s.api('POST', '/v2/templates', { name: 'limited-seats' })).body;
  const role = await s.api('POST', `/v2/templates/${template.id}/roles/seat`, { publishParams: { allowed: [] }, subscribeParams: { subscribeToRoles: [], maxSubsBitRate: 0 }, maxPeerCount: 3 });
  assert.equal(role.status, 200, JSON.stringify(role.body));
  const roomId = (await s.api('POST', '/v2/rooms', { name: 'limited-seats-room', template_id: template.id })).body.id;
  const { outcomes, clients } = await joinAtOnce(12, await s.appToken(roomId, 'seat'));
  assert.equal(outcomes.filter((o) => o === 'joined').length, 3);
  assert.deepEqual(outcomes.filter((o) => o !== 'joined'), Array(9).fill(403));
  assert.equal(s.services.sfu.activePeers(roomId).length, 3);
  // a place freed is a place taken again
  const first = clients.find((c) => c.received.some((m) => m.type === 'joined'))!;
  first.ws.close();
  await until('a seat freed', () => s.services.sfu.activePeers(roomId).length === 2);
  const again = await joinAtOnce(3, await s.appToken(roomId, 'seat'));
  assert.equal(again.outcomes.filter((o) => o === 'joined').length, 1);
  await closeAll([...clients, ...again.clients]);
});

test('a room of size N: of many concurrent joins exactly N get in', async () => {
  const roomId = (await s.api('POST', '/v2/rooms', { name: 'small-room', size: 2 })).body.id;
  const { outcomes, clients } = await joinAtOnce(8, await s.appToken(roomId, 'hls-viewer'));
  assert.equal(outcomes.filter((o) => o === 'joined').length, 2);
  const refused = clients.find((c) => c.received.some((m) => m.type === 'error'))!;
  assert.match(refused.received.find((m) => m.type === 'error').message, /room is full/);
  assert.equal(s.services.sfu.activePeers(roomId).length, 2);
  await closeAll(clients);
});

test('user_data is limited by its serialized size, objects too', async () => {
  const roomId = (await s.api('POST', '/v2/rooms', { name: 'user-data-room' })).body.id;
  const token = await s.appToken(roomId, 'hls-viewer');
  const big = await wsClient(s.url);
  big.send({ type: 'join', token, user_data: { note: 'x'.repeat(2100) } });
  const err = await big.next('error');
  assert.equal(err.code, 400);
  assert.match(err.details[0], /user_data/);
  const ok = await wsClient(s.url);
  ok.send({ type: 'join', token, user_data: { team: 'blue', seat: 4 } });
  const joined = await ok.next('joined');
  const event = await until('join event', async () => (await s.services.events.list({ type: 'peer.join.success', roomId })).find((e) => e.data.peer_id === joined.peer_id));
  assert.deepEqual(JSON.parse(String(event.data.user_data)), { team: 'blue', seat: 4 });
  await closeAll([big, ok]);
});

test('a flooding socket is closed (1008), a huge frame too (1009); the server stays healthy', async () => {
  const roomId = (await s.api('POST', '/v2/rooms', { name: 'flood-room' })).body.id;
  const token = await s.appToken(roomId, 'host');
  const flood = await wsClient(s.url);
  // each preview verifies a token and reads the database: they arrive far faster than they are handled
  for (let i = 0; i < 2000 && flood.ws.readyState === flood.ws.OPEN; i++) flood.send({ type: 'preview', token });
  assert.equal(await flood.closed, 1008);
  assert.ok(flood.received.filter((m) => m.type === 'preview').length < 2000);
  const huge = await wsClient(s.url);
  huge.send({ type: 'answer', sdp: 'a'.repeat(300 * 1024) });
  assert.equal(await huge.closed, 1009);
  assert.equal((await fetch(`${s.url}/healthz`)).status, 200);
  const c = await wsClient(s.url);
  c.send({ type: 'join', token });
  assert.equal((await c.next('joined')).role.name, 'host');
  await closeAll([c]);
});

test('a socket that neither joins nor previews is closed first; a previewing one may stay longer', async () => {
  const roomId = (await s.api('POST', '/v2/rooms', { name: 'deadline-room' })).body.id;
  const idle = await wsClient(s.url);
  const previewing = await wsClient(s.url);
  previewing.send({ type: 'preview', token: await s.appToken(roomId, 'guest') });
  await previewing.next('preview');
  assert.equal(await idle.closed, 1008);
  assert.equal(previewing.ws.readyState, previewing.ws.OPEN);
  // and it can still join
  previewing.send({ type: 'join', token: await s.appToken(roomId, 'guest') });
  await previewing.next('joined');
  await closeAll([previewing]);
});

test('the session limit ends a session: peers removed with a reason, session closed, events as usual', async () => {
  const short = await startTestServer({ SESSION_MAX_SECONDS: '2' });
  try {
    const roomId = (await short.api('POST', '/v2/rooms', { name: 'short-session' })).body.id;
    const a = await wsClient(short.url);
    a.send({ type: 'join', token: await short.appToken(roomId, 'hls-viewer'), name: 'A' });
    const joined = await a.next('joined');
    const removed = await a.next('removed');
    assert.equal(removed.reason, 'server removed peer');
    assert.match(removed.message, /session max duration/);
    assert.equal(await a.closed, 1000);
    const close = await until('session close', async () => (await short.services.events.list({ type: 'session.close.success', roomId })).find((e) => e.data.session_id === joined.session_id));
    assert.ok(Number(close.data.session_duration) >= 2);
    const leave = (await short.services.events.list({ type: 'peer.leave.success', roomId })).find((e) => e.data.peer_id === joined.peer_id);
    assert.equal(leave?.data.reason, 'server removed peer');
    assert.equal(short.services.sfu.activeSession(roomId), null);
    // a new session can start afterwards
    const b = await wsClient(short.url);
    b.send({ type: 'join', token: await short.appToken(roomId, 'hls-viewer'), name: 'B' });
    assert.notEqual((await b.next('joined')).session_id, joined.session_id);
    b.ws.close();
    await b.closed;
  } finally {
    await short.stop();
  }
});
