// Webhook delivery against a real HTTP receiver: every event once, in order per room, envelope as the reference,
// custom headers and the HMAC signature; the per-room override; the delivery log; giving up and replaying;
// the workspace webhook setting. Events are emitted through the server's event log (no media needed).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { WebhookReceiver, waitFor } from '../helpers/webhookReceiver.js';

const SECRET = 'whsec-test-0123456789';
let s: TestServer;
const rx = new WebhookReceiver();
const rooms: Record<string, string> = {};
/** emitted event ids per room, in emission order */
const emitted: Record<string, string[]> = {};

/** The events of a recorded and streamed session, as the other parts of the server emit them. */
function sessionEvents(roomId: string, name: string): Array<[string, Record<string, unknown>]> {
  const base = { room_id: roomId, room_name: name, session_id: `sess-${name}`, template_id: 'tpl' };
  const peer = (p: string) => ({ ...base, peer_id: `peer-${p}`, user_id: `user-${p}`, user_name: p, user_data: '', role: 'host', joined_at: '2026-01-01T00:00:00Z', type: 'regular' });
  const beam = { ...base, beam_id: `beam-${name}`, job_id: `beam-${name}`, recording_enabled: true, peer_id: '', max_width: 1280, max_height: 720, meeting_url: 'http://127.0.0.1/m', rtmp: [] };
  return [
    ['session.open.success', { ...base, session_started_at: '2026-01-01T00:00:00Z' }],
    ['peer.join.success', peer('a')],
    ['peer.join.success', peer('b')],
    ['beam.started.success', { ...beam, start_delay: 3, state_name: 'Started' }],
    ['hls.started.success', { ...beam, url: 'http://127.0.0.1/hls/x.m3u8', state_name: 'HLSStarted' }],
    ['hls.stopped.success', { ...beam, duration: 60, reason: 'client request', state_name: 'HLSStopped' }],
    ['beam.stopped.success', { ...beam, duration: 60, reason: 'client request', state_name: 'Stopped' }],
    ['beam.recording.success', { ...beam, recording_path: 's3://b/p/beam/x.mp4', recording_presigned_url: 'https://example.com/x', size: 1234, duration: 60 }],
    ['peer.leave.success', { ...peer('a'), duration: 60, reason: 'client request', message: '' }],
    ['peer.leave.success', { ...peer('b'), duration: 60, reason: 'client request', message: '' }],
    ['session.close.success', { ...base, session_duration: 61, session_stopped_at: '2026-01-01T00:01:01Z' }],
  ];
}

before(async () => {
  await rx.listen();
  rx.failPaths.add('/always-500');
  s = await startTestServer({
    WEBHOOK_URL: rx.url('/workspace'),
    WEBHOOK_HEADERS: JSON.stringify({ 'X-Api-Key': 'key-123', Authorization: 'Basic abc' }),
    WEBHOOK_SECRET: SECRET,
    WEBHOOK_ALLOW_PRIVATE: 'true',
    // the reference's 3 retries only (≈14 s), so the give-up path is testable
    WEBHOOK_RETRY_WINDOW_SECONDS: '0',
    RECORDER_WORKERS: '0',
  });
  for (const name of ['wh-a', 'wh-b', 'wh-c', 'wh-fail']) {
    const body: Record<string, unknown> = { name };
    if (name === 'wh-c') body.webhook = { url: rx.url('/room-c'), headers: { 'X-Room': 'c' } };
    if (name === 'wh-fail') body.webhook = { url: rx.url('/always-500') };
    const r = await s.api('POST', '/v2/rooms', body);
    assert.equal(r.status, 200, JSON.stringify(r.body));
    rooms[name] = r.body.id;
    emitted[r.body.id] = [];
  }
  // the failing room's event starts its 4 tries now; the replay test checks it at the end
  const e = await s.services.events.emit('peer.join.success', rooms['wh-fail'], { room_id: rooms['wh-fail'], peer_id: 'p-fail' });
  emitted[rooms['wh-fail']].push(e.id);
});
after(async () => {
  await s.stop();
  await rx.close();
});

function verifySignature(header: string | string[] | undefined, raw: string): boolean {
  const m = /^t=(\d+),v1=([0-9a-f]{64})$/.exec(String(header));
  if (!m) return false;
  const want = createHmac('sha256', SECRET).update(`${m[1]}.${raw}`).digest('hex');
  return want === m[2] && Math.abs(Number(m[1]) - Date.now() / 1000) < 600;
}

test('every event of three rooms arrives once, in order per room, with envelope, headers and a valid signature', async () => {
  const names = ['wh-a', 'wh-b', 'wh-c'];
  const lists = names.map((n) => sessionEvents(rooms[n], n));
  const sent = new Map<string, { type: string; data: Record<string, unknown>; created_at: string }>();
  // interleaved across rooms, as a real multi-room workload
  for (let i = 0; i < lists[0].length; i++) {
    for (let r = 0; r < names.length; r++) {
      const [type, data] = lists[r][i];
      const e = await s.services.events.emit(type, rooms[names[r]], data);
      emitted[rooms[names[r]]].push(e.id);
      sent.set(e.id, { type, data, created_at: e.created_at });
    }
  }
  const total = names.length * lists[0].length;
  await waitFor('all events at the receiver', () => rx.accepted.filter((a) => sent.has(a.body?.id)).length >= total, 60_000);
  // a moment more: a duplicate would show up now
  await new Promise((r) => setTimeout(r, 1000));
  const got = rx.accepted.filter((a) => sent.has(a.body?.id));
  assert.equal(got.length, total, 'each event exactly once');
  assert.equal(new Set(got.map((g) => g.body.id)).size, total);

  for (const n of names) {
    const id = rooms[n];
    const order = got.filter((g) => g.body.data.room_id === id).map((g) => g.body.id);
    assert.deepEqual(order, emitted[id], `order of room ${n}`);
  }
  for (const g of got) {
    const e = sent.get(g.body.id)!;
    assert.deepEqual(Object.keys(g.body).sort(), ['account_id', 'app_id', 'data', 'id', 'timestamp', 'type', 'version']);
    assert.equal(g.body.version, '2.0');
    assert.equal(g.body.type, e.type);
    assert.equal(g.body.account_id, s.services.customerId);
    assert.equal(g.body.app_id, s.services.appId);
    assert.match(g.body.timestamp, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    assert.equal(g.body.timestamp, e.created_at.replace(/\.\d{3}Z$/, 'Z'));
    assert.deepEqual(g.body.data, e.data);
    assert.equal(g.headers['content-type'], 'application/json');
    assert.ok(verifySignature(g.headers['x-roomcast-signature'], g.raw), `signature of ${g.body.id}`);
    if (g.body.data.room_id === rooms['wh-c']) {
      // the room's own webhook replaces the workspace one, headers included
      assert.equal(g.path, '/room-c');
      assert.equal(g.headers['x-room'], 'c');
      assert.equal(g.headers['x-api-key'], undefined);
    } else {
      assert.equal(g.path, '/workspace');
      assert.equal(g.headers['x-api-key'], 'key-123');
      assert.equal(g.headers.authorization, 'Basic abc');
    }
  }
});

test('a tampered body does not verify against the signature header', async () => {
  const g = rx.accepted.find((a) => a.path === '/workspace')!;
  assert.ok(verifySignature(g.headers['x-roomcast-signature'], g.raw));
  assert.equal(verifySignature(g.headers['x-roomcast-signature'], g.raw.replace('"version":"2.0"', '"version":"2.1"')), false);
});

test('delivery log: filters by room, status and event name; pages; reference shape', async () => {
  const a = rooms['wh-a'];
  const all = await s.api('GET', `/v2/analytics/webhooks?room_id=${a}`);
  assert.equal(all.status, 200, JSON.stringify(all.body));
  assert.equal(all.body.summary.total_events, emitted[a].length);
  assert.equal(all.body.pagination.total_items, emitted[a].length);
  // newest first
  assert.deepEqual(all.body.events.map((e: any) => e.event_id), [...emitted[a]].reverse());
  const item = all.body.events[0];
  assert.equal(item.event_name, 'reporter.webhook.delivery.success');
  assert.equal(item.room_id, a);
  assert.match(item.event_timestamp, /Z$/);
  assert.equal(item.payload.original_event_name, 'session.close.success');
  assert.equal(item.payload.webhook_url, rx.url('/workspace'));
  assert.equal(item.payload.event_data.room_id, a);
  assert.equal(item.payload.attempts, 1);
  assert.equal(item.payload.error_reason, undefined);

  const joins = await s.api('GET', `/v2/analytics/webhooks?room_id=${a}&event_names=peer.join.success&event_names=peer.leave.success`);
  assert.equal(joins.body.events.length, 4);
  assert.ok(joins.body.events.every((e: any) => e.payload.original_event_name.startsWith('peer.')));

  const p2 = await s.api('GET', `/v2/analytics/webhooks?room_id=${a}&limit=3&page=2`);
  assert.deepEqual(p2.body.pagination, { current_page: 2, page_size: 3, total_pages: Math.ceil(emitted[a].length / 3), total_items: emitted[a].length, has_next: true, has_prev: true });
  assert.deepEqual(p2.body.events.map((e: any) => e.event_id), [...emitted[a]].reverse().slice(3, 6));

  const none = await s.api('GET', `/v2/analytics/webhooks?room_id=${a}&status=failed`);
  assert.equal(none.body.events.length, 0);

  // reference errors: start_time older than 30 days, window over 14 days, limit bounds
  const old = new Date(Date.now() - 31 * 86400_000).toISOString();
  assert.equal((await s.api('GET', `/v2/analytics/webhooks?start_time=${old}`)).status, 400);
  const start = new Date(Date.now() - 20 * 86400_000).toISOString();
  const r = await s.api('GET', `/v2/analytics/webhooks?start_time=${start}&end_time=${new Date().toISOString()}`);
  assert.equal(r.status, 400);
  assert.equal(r.body.message, 'end_time must be within 14 days after start_time');
  assert.equal((await s.api('GET', '/v2/analytics/webhooks?limit=101')).status, 400);
  assert.equal((await s.api('GET', '/v2/analytics/webhooks?start_time=yesterday')).status, 400);
  assert.equal((await s.api('GET', '/v2/analytics/webhooks', undefined, '')).status, 401);
});

test('a receiver answering 500 is tried 4 times (+1 s, +3 s, +10 s), given up, and replayed once fixed', async () => {
  const room = rooms['wh-fail'];
  const [eventId] = emitted[room];
  const failed = await waitFor(
    'the failing delivery to be given up',
    async () => {
      const r = await s.api('GET', `/v2/analytics/webhooks?room_id=${room}&status=failed`);
      return r.body.events.length === 1 ? r.body.events[0] : null;
    },
    60_000,
  );
  assert.equal(failed.event_id, eventId);
  assert.equal(failed.event_name, 'reporter.webhook.delivery.failed');
  assert.equal(failed.payload.attempts, 4);
  assert.equal(failed.payload.status_code, 500);
  assert.equal(failed.payload.error_reason, 'HTTP 500');
  assert.equal(rx.ids().includes(eventId), false);

  // the room's webhook is fixed; the default replay takes the failed deliveries of the last 24 h
  assert.equal((await s.api('POST', `/v2/rooms/${room}`, { webhook: { url: rx.url('/fixed') } })).status, 200);
  const replay = await s.api('POST', '/v2/analytics/webhooks/replay', { room_id: room });
  assert.equal(replay.status, 200, JSON.stringify(replay.body));
  assert.equal(replay.body.status, 'started');
  assert.match(replay.body.workflow_id, /^webhook-replay-/);
  assert.equal(replay.body.total, 1);
  const got = await waitFor('the replayed event', () => rx.accepted.find((a) => a.body?.id === eventId));
  assert.equal(got.path, '/fixed');
  assert.equal(got.body.is_replay, true);
  const status = await waitFor('the replay to complete', async () => {
    const r = await s.api('GET', `/v2/analytics/webhooks/replay/${replay.body.workflow_id}`);
    return r.body.status === 'completed' ? r.body : null;
  });
  assert.deepEqual(status.progress, { total: 1, completed: 1, failed: 0 });
  assert.equal((await s.api('GET', '/v2/analytics/webhooks/replay/nope')).status, 404);

  // replay by event id (extension): one delivered event again, to the room's current webhook
  const one = emitted[rooms['wh-b']][0];
  const before = rx.ids().filter((id) => id === one).length;
  const r2 = await s.api('POST', '/v2/analytics/webhooks/replay', { event_ids: [one] });
  assert.equal(r2.status, 200);
  await waitFor('the event sent again', () => rx.ids().filter((id) => id === one).length === before + 1);
  assert.equal((await s.api('POST', '/v2/analytics/webhooks/replay', { event_ids: ['no-such-event'] })).status, 400);
  assert.equal((await s.api('POST', '/v2/analytics/webhooks/replay', { status: 'maybe' })).status, 400);
  assert.equal((await s.api('POST', '/v2/analytics/webhooks/replay', { extra: 1 })).status, 400);
});

test('workspace webhook setting: API wins over WEBHOOK_URL, header values masked, null falls back', async () => {
  const got = await s.api('GET', '/v2/webhooks/settings');
  assert.equal(got.status, 200);
  assert.equal(got.body.source, 'config');
  assert.equal(got.body.url, rx.url('/workspace'));
  assert.equal(got.body.headers['X-Api-Key'], '****');
  assert.equal(got.body.signature_header, 'x-roomcast-signature');

  const secret = 'Bearer abcdefghijklmnop';
  const set = await s.api('POST', '/v2/webhooks/settings', { url: rx.url('/from-api'), headers: { Authorization: secret } });
  assert.equal(set.status, 200, JSON.stringify(set.body));
  assert.equal(set.body.source, 'api');
  assert.equal(set.body.headers.Authorization, '****mnop');
  // sending the masked value back keeps the stored one; another masked value is refused
  assert.equal((await s.api('POST', '/v2/webhooks/settings', { url: rx.url('/from-api'), headers: { Authorization: '****mnop' } })).status, 200);
  assert.equal((await s.api('POST', '/v2/webhooks/settings', { url: rx.url('/from-api'), headers: { Authorization: '****zzzz' } })).status, 400);
  assert.equal((await s.api('POST', '/v2/webhooks/settings', { url: 'ftp://x' })).status, 400);
  assert.equal((await s.api('POST', '/v2/webhooks/settings', { headers: {} })).status, 400);

  const e = await s.services.events.emit('session.open.success', rooms['wh-a'], { room_id: rooms['wh-a'] });
  const g = await waitFor('the event at the API-set URL', () => rx.accepted.find((a) => a.body?.id === e.id));
  assert.equal(g.path, '/from-api');
  assert.equal(g.headers.authorization, secret);

  const cleared = await s.api('POST', '/v2/webhooks/settings', { url: null });
  assert.equal(cleared.body.source, 'config');
  const e2 = await s.services.events.emit('session.close.success', rooms['wh-a'], { room_id: rooms['wh-a'] });
  const g2 = await waitFor('the event at WEBHOOK_URL again', () => rx.accepted.find((a) => a.body?.id === e2.id));
  assert.equal(g2.path, '/workspace');
});

test('a custom header Node cannot send (a room webhook header named "bad header") fails the delivery once, no retry loop', async () => {
  const r = await s.api('POST', '/v2/rooms', { name: 'wh-badheader', webhook: { url: rx.url('/bad'), headers: { 'bad header': 'x' } } });
  assert.equal(r.status, 200, JSON.stringify(r.body));
  const e = await s.services.events.emit('session.open.success', r.body.id, { room_id: r.body.id });
  const failed = await waitFor('the delivery to fail', async () => {
    const res = await s.api('GET', `/v2/analytics/webhooks?room_id=${r.body.id}&status=failed`);
    return res.body.events[0];
  }, 20_000);
  assert.equal(failed.event_id, e.id);
  assert.equal(failed.payload.attempts, 1);
  assert.match(failed.payload.error_reason, /^refused: /);
  assert.equal(rx.accepted.some((a) => a.path === '/bad'), false);
});
