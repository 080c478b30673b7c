// Session bookkeeping without media: open on the first visible join, close on the last leave, stale sessions
// from a previous process closed at start, hidden peers refused.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { SessionTracker, type JoiningPeer } from '../../src/domain/sessions.js';
import { RECORDER_ROLE } from '../../src/model/templates.js';
import { uuid } from '../../src/clock.js';

let s: TestServer;
let room: { id: string; name: string; template_id: string };

before(async () => {
  s = await startTestServer();
  room = (await s.api('POST', '/v2/rooms', { name: 'sessions-domain' })).body;
});
after(() => s?.stop());

const joining = (name: string, role = 'host'): JoiningPeer => ({
  peerId: uuid(),
  roomId: room.id,
  roomName: room.name,
  templateId: room.template_id,
  userId: `u-${name}`,
  name,
  userData: '',
  role,
});

const eventsOf = async (type: string) => s.services.events.list({ type, roomId: room.id });

test('the first peer opens a session, the last one out closes it', async () => {
  const tracker = new SessionTracker(s.services.store.db, s.services.events);
  const before = (await eventsOf('session.open.success')).length;
  // two first peers at once still make one session
  const [a, b] = await Promise.all([tracker.join(joining('a')), tracker.join(joining('b'))]);
  assert.equal(a.sessionId, b.sessionId);
  assert.equal((await eventsOf('session.open.success')).length, before + 1);
  assert.equal(tracker.activeSession(room.id)?.id, a.sessionId);

  await tracker.leave(a, 'client request');
  assert.equal(tracker.activeSession(room.id)?.id, a.sessionId);
  assert.equal((await eventsOf('session.close.success')).filter((e) => e.data.session_id === a.sessionId).length, 0);
  await tracker.leave(b, 'websocket closed', 'gone');
  assert.equal(tracker.activeSession(room.id), null);
  const [closed] = (await eventsOf('session.close.success')).filter((e) => e.data.session_id === a.sessionId);
  assert.ok(closed);
  assert.equal(closed.data.room_name, room.name);
  assert.equal(typeof closed.data.session_duration, 'number');

  const leaves = (await eventsOf('peer.leave.success')).filter((e) => e.data.session_id === a.sessionId);
  assert.deepEqual(leaves.map((e) => e.data.reason), ['client request', 'websocket closed']);
  assert.equal(leaves[1].data.message, 'gone');
  const rows = await s.services.store.db.selectFrom('peers').selectAll().where('session_id', '=', a.sessionId).execute();
  assert.equal(rows.length, 2);
  assert.ok(rows.every((r) => r.left_at !== null));

  // the next peer opens a new session
  const c = await tracker.join(joining('c'));
  assert.notEqual(c.sessionId, a.sessionId);
  await tracker.leave(c, 'client request');
});

test('the recorder never joins a session', async () => {
  const tracker = new SessionTracker(s.services.store.db, s.services.events);
  assert.throws(() => tracker.join(joining('beam', RECORDER_ROLE)));
  assert.equal(tracker.activeSession(room.id), null);
});

test('with no grace period, sessions a previous process left open are closed at start, with leave events', async () => {
  const crashed = new SessionTracker(s.services.store.db, s.services.events);
  const p = await crashed.join(joining('stale'));
  // a new process: its tracker knows nothing of the open session
  const restarted = new SessionTracker(s.services.store.db, s.services.events);
  assert.equal(await restarted.resumeStale(0), 1);
  const leave = (await eventsOf('peer.leave.success')).find((e) => e.data.peer_id === p.peerId);
  assert.equal(leave?.data.reason, 'server removed peer');
  assert.ok((await eventsOf('session.close.success')).some((e) => e.data.session_id === p.sessionId));
  const row = await s.services.store.db.selectFrom('sessions').selectAll().where('id', '=', p.sessionId).executeTakeFirstOrThrow();
  assert.equal(Number(row.active), 0);
  assert.equal(await restarted.resumeStale(0), 0);
});

test('after a restart a session is resumed: a peer joining again continues it, one that does not is removed after the grace period', async () => {
  const crashed = new SessionTracker(s.services.store.db, s.services.events);
  const back = await crashed.join(joining('back'));
  const gone = await crashed.join(joining('gone'));
  const opened = (await eventsOf('session.open.success')).length;
  const restarted = new SessionTracker(s.services.store.db, s.services.events);
  assert.equal(await restarted.resumeStale(1500), 1);
  assert.equal(restarted.activeSession(room.id)?.id, back.sessionId, 'the session is open again, as it was');

  // the page of "back" joins again naming the peer it was: its ghost leaves, the new peer is in the same session
  const again = await restarted.join({ ...joining('back'), userId: back.userId, previousPeerId: back.peerId });
  assert.equal(again.sessionId, back.sessionId);
  assert.equal((await eventsOf('session.open.success')).length, opened, 'no new session');
  const ghostLeave = (await eventsOf('peer.leave.success')).find((e) => e.data.peer_id === back.peerId);
  assert.equal(ghostLeave?.data.message, 'joined again after a server restart');
  // a peer id alone (another user) retires no one
  await restarted.join({ ...joining('intruder'), previousPeerId: gone.peerId }).then((p) => restarted.leave(p, 'client request'));
  assert.equal((await eventsOf('peer.leave.success')).filter((e) => e.data.peer_id === gone.peerId).length, 0);

  // the grace period ends: "gone" is removed, the session stays open for the peer that came back
  await new Promise((r) => setTimeout(r, 2000));
  const goneLeave = (await eventsOf('peer.leave.success')).find((e) => e.data.peer_id === gone.peerId);
  assert.equal(goneLeave?.data.reason, 'server removed peer');
  assert.equal(goneLeave?.data.message, 'server restarted');
  assert.equal(restarted.activeSession(room.id)?.id, back.sessionId);
  await restarted.leave(again, 'client request');
  assert.equal(restarted.activeSession(room.id), null);
  assert.ok((await eventsOf('session.close.success')).some((e) => e.data.session_id === back.sessionId));
});
