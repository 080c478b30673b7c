// Hidden joins: only a recorder token the server minted for a live job of the room joins hidden; a hand-made
// token for the recorder role (signed with the right secret, as `roomcast token app` makes) is refused.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import WebSocket from 'ws';
import { startTestServer, type TestServer, TEST_KEYS } from '../helpers/server.js';
import { signAppToken, signRecorderToken, verifyToken } from '../../src/auth/tokens.js';
import { recorderJoinUrl, recorderJoinDecision, recorderRoleOfUrl } from '../../src/domain/recorderAccess.js';
import { RECORDER_ROLE } from '../../src/model/templates.js';

let s: TestServer;
let roomId: string;

before(async () => {
  s = await startTestServer();
  roomId = (await s.api('POST', '/v2/rooms', { name: 'recorder-access' })).body.id;
});
after(() => s?.stop());

/** One request/answer over /ws: `preview` or `join` with the token; the server's first reply. */
async function ask(type: 'preview' | 'join', token: string, role: string): Promise<any> {
  const ws = new WebSocket(`${s.url.replace('http', 'ws')}/ws`);
  try {
    await new Promise((r, j) => ws.once('open', r).once('error', j));
    const reply = new Promise<any>((r) => ws.once('message', (d) => r(JSON.parse(d.toString()))));
    ws.send(JSON.stringify({ type, token, room_id: roomId, role, ...(type === 'join' ? { name: 'x' } : {}) }));
    return await reply;
  } finally {
    ws.close();
  }
}

async function liveStream(): Promise<string> {
  const r = await s.api('POST', `/v2/live-streams/room/${roomId}/start`, {});
  assert.equal(r.status, 200, JSON.stringify(r.body));
  return r.body.id;
}

test('a hand-made recorder-role token is refused at preview and join, whatever its lifetime or user id', async () => {
  const token = await signAppToken(TEST_KEYS, { room_id: roomId, role: RECORDER_ROLE, user_id: 'beam-spy' });
  for (const type of ['preview', 'join'] as const) {
    const m = await ask(type, token, RECORDER_ROLE);
    assert.equal(m.type, 'error', JSON.stringify(m));
    assert.equal(m.code, 403);
    assert.match(m.message, /recorder role only joins with a token the server minted/);
  }
  // no peer of the room, hidden or not
  assert.deepEqual(s.services.sfu.activePeers(roomId, { includeHidden: true }), []);
});

test('a minted token names its job; it joins hidden while the job is live, and is refused once the job ended or for another job', async () => {
  const id = await liveStream();
  const url = new URL(await recorderJoinUrl(s.config, { id, kind: 'live-stream', roomId, meetingUrl: `${s.url}/preview/${roomId}/${RECORDER_ROLE}?skip_preview=true` }));
  const token = url.searchParams.get('auth_token')!;
  const claims = await verifyToken(TEST_KEYS, token);
  assert.deepEqual(claims.job, { job_id: id, job_kind: 'live-stream' });
  assert.equal(claims.role, RECORDER_ROLE);
  const { exp, iat } = JSON.parse(Buffer.from(token.split('.')[1], 'base64url').toString());
  assert.ok(exp - iat <= s.config.recorderJoinTimeoutMs / 1000 + 600, `a short lifetime: ${exp - iat} s`);

  const ok = await ask('preview', token, RECORDER_ROLE);
  assert.equal(ok.type, 'preview', JSON.stringify(ok));
  assert.deepEqual(ok.role.publish, [], 'a hidden peer publishes nothing');
  assert.deepEqual(await recorderJoinDecision(s.services.store.db, claims), { hidden: true });

  // the same claim for a job that does not exist, or in another room
  const forged = await signRecorderToken(TEST_KEYS, { room_id: roomId, role: RECORDER_ROLE, user_id: 'x', job_id: '000000000000000000000000', job_kind: 'recording' }, 60);
  assert.equal((await ask('preview', forged, RECORDER_ROLE)).code, 403);

  assert.equal((await s.api('POST', `/v2/live-streams/${id}/stop`)).status, 200);
  await s.services.store.db.updateTable('live_streams').set({ status: 'completed' }).where('id', '=', id).execute();
  const late = await ask('preview', token, RECORDER_ROLE);
  assert.equal(late.code, 403);
  assert.match(late.message, /which is completed/);
});

test('a job token for an ordinary role joins hidden; the same role without a claim joins visible', async () => {
  const id = await liveStream();
  const minted = await signRecorderToken(TEST_KEYS, { room_id: roomId, role: 'guest', user_id: `beam-${id}`, job_id: id, job_kind: 'live-stream' }, 60);
  assert.deepEqual(await recorderJoinDecision(s.services.store.db, await verifyToken(TEST_KEYS, minted)), { hidden: true });
  const plain = await s.appToken(roomId, 'guest');
  assert.deepEqual(await recorderJoinDecision(s.services.store.db, await verifyToken(TEST_KEYS, plain)), { hidden: false });
  const p = await ask('preview', plain, 'guest');
  assert.ok(p.role.publish.length > 0, 'a visible guest still publishes');
  await s.api('POST', `/v2/live-streams/${id}/stop`);
});

test('the recorder URL: role from our preview path, own pages only, a given auth_token kept', async () => {
  assert.equal(recorderRoleOfUrl(new URL('http://h/preview/r/viewer-rec?skip_preview=true')), 'viewer-rec');
  assert.equal(recorderRoleOfUrl(new URL('http://h/meeting/abc-def')), RECORDER_ROLE);
  const other = await recorderJoinUrl(s.config, { id: 'j', kind: 'recording', roomId, meetingUrl: 'http://elsewhere.example/x' });
  assert.equal(other, 'http://elsewhere.example/x', 'no token for a page of another host');
  const given = `${s.url}/preview/${roomId}/guest?auth_token=mine`;
  assert.equal(await recorderJoinUrl(s.config, { id: 'j', kind: 'recording', roomId, meetingUrl: given }), given);
});
