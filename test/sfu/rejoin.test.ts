// A page whose connection dropped joins again with the same token, naming the peer it was: the new peer takes
// that one's place (its seat, without closing the session) when the server still has it; a peer id alone, with
// another token, replaces no one; an unknown previous peer (a restarted server) is a plain join.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { until } from '../helpers/meetingPeers.js';
import { wsClient, type WsClient } from './wsClient.js';

let s: TestServer;
const clients: WsClient[] = [];
before(async () => {
  s = await startTestServer();
});
after(async () => {
  for (const c of clients) c.ws.close();
  await s?.stop();
});

async function join(token: string, previous?: string): Promise<{ c: WsClient; joined: any }> {
  const c = await wsClient(s.url);
  clients.push(c);
  c.send({ type: 'join', token, name: 'again', ...(previous ? { previous_peer_id: previous } : {}) });
  const joined = await Promise.race([c.next('joined'), c.next('error').then((e) => Promise.reject(new Error(`join refused: ${e.code} ${e.message}`)))]);
  return { c, joined };
}

test('a re-join with the same token takes the old peer’s place, its seat and its session', async () => {
  const template = (await s.api('POST', '/v2/templates', { name: 'one-seat' })).body;
  const role = await s.api('POST', `/v2/templates/${template.id}/roles/seat`, { publishParams: { allowed: [] }, subscribeParams: { subscribeToRoles: [], maxSubsBitRate: 0 }, maxPeerCount: 1 });
  assert.equal(role.status, 200, JSON.stringify(role.body));
  const roomId = (await s.api('POST', '/v2/rooms', { name: 'rejoin-room', template_id: template.id })).body.id;
  const token = await s.appToken(roomId, 'seat', 'u1');

  const first = await join(token);
  // the old socket is still open (a blip the server has not noticed): the one seat is the old peer's own
  const second = await join(token, first.joined.peer_id);
  assert.notEqual(second.joined.peer_id, first.joined.peer_id);
  assert.equal(second.joined.session_id, first.joined.session_id, 'the session goes on');
  assert.equal(await first.c.closed, 1000, 'the old connection is closed');
  assert.deepEqual(s.services.sfu.activePeers(roomId).map((p) => p.id), [second.joined.peer_id]);
  const left = await until('the old peer left', async () =>
    (await s.services.events.list({ type: 'peer.leave.success', roomId })).find((e) => e.data.peer_id === first.joined.peer_id),
  );
  assert.equal(left.data.reason, 'websocket closed');
  assert.equal((await s.services.events.list({ type: 'session.close.success', roomId })).length, 0);

  // another token naming that peer takes no one's place (the seat is taken: refused)
  const other = await wsClient(s.url);
  clients.push(other);
  other.send({ type: 'join', token: await s.appToken(roomId, 'seat', 'u2'), previous_peer_id: second.joined.peer_id });
  assert.equal((await other.next('error')).code, 403);
  assert.deepEqual(s.services.sfu.activePeers(roomId).map((p) => p.id), [second.joined.peer_id]);
});

test('a re-join naming a peer the server does not know (it restarted) is a plain join', async () => {
  const roomId = (await s.api('POST', '/v2/rooms', { name: 'rejoin-fresh' })).body.id;
  const token = await s.appToken(roomId, 'hls-viewer');
  const a = await join(token);
  const b = await join(token, '00000000-0000-4000-8000-000000000000');
  assert.equal(b.joined.session_id, a.joined.session_id);
  assert.equal(s.services.sfu.activePeers(roomId).length, 2, 'two pages with one token are two peers');
});
