// RecordingConfig.role is the role the recorder joins as (hidden, publishing nothing), and a role added to a
// template later is watched by the hidden recorder role, so its video is in recordings and HLS.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import WebSocket from 'ws';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { recorderJoinUrl } from '../../src/domain/recorderAccess.js';
import { verifyToken } from '../../src/auth/tokens.js';
import { TEST_KEYS } from '../helpers/server.js';
import { RECORDER_ROLE } from '../../src/model/templates.js';
import { withRoleSubscribedByRecorder, defaultRoles } from '../../src/domain/templateDefaults.js';

let s: TestServer;
before(async () => {
  s = await startTestServer();
});
after(() => s?.stop());

async function preview(token: string, roomId: string, role: string): Promise<any> {
  const ws = new WebSocket(`${s.url.replace('http', 'ws')}/ws`);
  try {
    await new Promise((r, j) => ws.once('open', r).once('error', j));
    const reply = new Promise<any>((r) => ws.once('message', (d) => r(JSON.parse(d.toString()))));
    ws.send(JSON.stringify({ type: 'preview', token, room_id: roomId, role }));
    return await reply;
  } finally {
    ws.close();
  }
}

test('a role added later is subscribed by the recorder role when it publishes; a non-publishing one is not', async () => {
  const t = (await s.api('POST', '/v2/templates', { name: 'later-roles' })).body;
  const base = `/v2/templates/${t.id}/roles`;
  const before = (await s.api('GET', `${base}/${RECORDER_ROLE}`)).body.subscribeParams.subscribeToRoles as string[];
  assert.ok(!before.includes('panelist'));
  assert.equal((await s.api('POST', `${base}/panelist`, { publishParams: { allowed: ['audio', 'video'] } })).status, 200);
  assert.equal((await s.api('POST', `${base}/listener`, { publishParams: { allowed: [] } })).status, 200);
  const after = (await s.api('GET', `${base}/${RECORDER_ROLE}`)).body.subscribeParams.subscribeToRoles as string[];
  assert.deepEqual(after, [...before, 'panelist']);
  // an explicit choice about an existing role is kept: updating panelist does not re-add it
  assert.equal((await s.api('POST', `${base}/${RECORDER_ROLE}`, { subscribeParams: { subscribeToRoles: before } })).status, 200);
  assert.equal((await s.api('POST', `${base}/panelist`, { priority: 2 })).status, 200);
  assert.deepEqual((await s.api('GET', `${base}/${RECORDER_ROLE}`)).body.subscribeParams.subscribeToRoles, before);
  // deleting the role takes it out again (the roles API already does so for every role)
  assert.equal((await s.api('POST', `${base}/speaker2`, {})).status, 200);
  assert.ok((await s.api('GET', `${base}/${RECORDER_ROLE}`)).body.subscribeParams.subscribeToRoles.includes('speaker2'));
  assert.equal((await s.api('DELETE', `${base}/speaker2`)).status, 204);
  assert.ok(!(await s.api('GET', `${base}/${RECORDER_ROLE}`)).body.subscribeParams.subscribeToRoles.includes('speaker2'));
});

test('withRoleSubscribedByRecorder leaves templates without a recorder role, and the recorder itself, alone', () => {
  const roles = defaultRoles();
  assert.equal(withRoleSubscribedByRecorder(roles, RECORDER_ROLE), roles);
  const { [RECORDER_ROLE]: _, ...noRecorder } = roles;
  assert.equal(withRoleSubscribedByRecorder(noRecorder, 'host'), noRecorder);
});

test('RecordingConfig.role: the recorder opens the page as that role and joins hidden, publishing nothing', async () => {
  const t = (await s.api('POST', '/v2/templates', { name: 'rec-role' })).body;
  const made = await s.api('POST', `/v2/templates/${t.id}/roles/recbot`, {
    publishParams: { allowed: ['audio', 'video'] },
    subscribeParams: { subscribeToRoles: ['host', 'guest'] },
  });
  assert.equal(made.status, 200, JSON.stringify(made.body));
  const cfg = await s.api('POST', `/v2/templates/${t.id}/recordings`, [{ name: 'default', role: 'recbot' }]);
  assert.equal(cfg.status, 200, JSON.stringify(cfg.body));
  const roomId = (await s.api('POST', '/v2/rooms', { name: 'rec-role-room', template_id: t.id })).body.id;
  const start = await s.api('POST', `/v2/recordings/room/${roomId}/start`, {});
  assert.equal(start.status, 200, JSON.stringify(start.body));
  const row = await s.services.store.db.selectFrom('recordings').selectAll().where('id', '=', start.body.id).executeTakeFirstOrThrow();
  assert.equal(new URL(row.meeting_url).pathname, `/preview/${roomId}/recbot`);

  const url = new URL(await recorderJoinUrl(s.config, { id: row.id, kind: 'recording', roomId, meetingUrl: row.meeting_url }));
  const token = url.searchParams.get('auth_token')!;
  const claims = await verifyToken(TEST_KEYS, token);
  assert.equal(claims.role, 'recbot');
  assert.deepEqual(claims.job, { job_id: row.id, job_kind: 'recording' });
  const p = await preview(token, roomId, 'recbot');
  assert.equal(p.type, 'preview', JSON.stringify(p));
  assert.deepEqual(p.role.publish, [], 'hidden: it publishes nothing, so the page grabs no camera');
  assert.deepEqual(p.role.subscribe_to_roles, ['host', 'guest'], 'it sees the room as its role does');
  // the same role by an ordinary token is a visible participant that may publish
  const plain = await preview(await s.appToken(roomId, 'recbot'), roomId, 'recbot');
  assert.ok(plain.role.publish.length > 0);
  await s.api('POST', `/v2/recordings/${row.id}/stop`);
});
