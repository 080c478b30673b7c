// The recordings control plane without a recorder worker (RECORDER_WORKERS=0): jobs stay "starting",
// which is what the API must show. The end-to-end media path is in test/e2e/recording.test.ts.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync, mkdtempSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { objectId, rfc3339 } from '../../src/clock.js';

let s: TestServer;
before(async () => {
  s = await startTestServer({ RECORDER_WORKERS: '0', RECORDER_ALLOWED_HOSTS: 'meet.example.com' });
});
after(() => s.stop());

async function room(name: string): Promise<string> {
  return (await s.api('POST', '/v2/rooms', { name })).body.id;
}

test('start with the seed body → starting (with why it waits); a second start → 409; stop by room ends the queued job at once', async () => {
  const id = await room('rec-a');
  const start = await s.api('POST', `/v2/recordings/room/${id}/start`, { resolution: { width: 1280, height: 720 } });
  assert.equal(start.status, 200, JSON.stringify(start.body));
  const r = start.body;
  assert.match(r.id, /^[0-9a-f]{24}$/);
  assert.equal(r.room_id, id);
  assert.equal(r.status, 'starting');
  assert.equal(r.started_at, null);
  assert.equal(r.stopped_at, null);
  assert.equal(r.recording_assets, null);
  assert.deepEqual(r.asset_types, ['room-composite']);
  assert.equal(r.started_by, '');
  assert.ok(r.meeting_url.includes(`/preview/${id}/`), r.meeting_url);
  assert.ok(!r.meeting_url.includes('auth_token'), 'no token in the API object');
  assert.equal(typeof r.session_id, 'string');
  // this server runs no recorder: the start says so instead of hiding it
  assert.match(r.reason, /^queued: position \d+ of \d+, waiting for a free recorder \(this server runs none: RECORDER_WORKERS=0\)$/);
  assert.equal((await s.api('GET', `/v2/recordings/${r.id}`)).body.reason, r.reason);

  const again = await s.api('POST', `/v2/recordings/room/${id}/start`, {});
  assert.equal(again.status, 409);
  assert.equal(again.body.code, 409);
  assert.ok(again.body.details[0].includes(r.id));

  const stop = await s.api('POST', `/v2/recordings/room/${id}/stop`);
  assert.equal(stop.status, 200);
  assert.equal(stop.body.data.length, 1);
  assert.equal(stop.body.data[0].id, r.id);
  // no recorder ever took it: nothing to stop, it ends at once (reference: BEAM_STOPPED) with no asset
  assert.equal(stop.body.data[0].status, 'failed');
  assert.equal(stop.body.data[0].error_type, 'BEAM_STOPPED');
  assert.equal(stop.body.data[0].reason, undefined);
  assert.equal(stop.body.last, r.id);

  const got = await s.api('GET', `/v2/recordings/${r.id}`);
  assert.equal(got.body.status, 'failed');
  assert.equal(got.body.recording_assets, null);
  const beam = (await s.services.events.list({ roomId: id })).filter((e) => e.type.startsWith('beam.'));
  assert.deepEqual(beam.map((e) => [e.type, e.data.error_type]), [['beam.failure', 'BEAM_STOPPED']]);
  // nothing left to stop
  assert.equal((await s.api('POST', `/v2/recordings/room/${id}/stop`)).status, 404);
});

test('bad starts: unknown room 404, resolution bounds 400, meeting_url host not allowed 400, extra field 400', async () => {
  assert.equal((await s.api('POST', '/v2/recordings/room/aaaaaaaaaaaaaaaaaaaaaaaa/start', {})).status, 404);
  const id = await room('rec-b');
  for (const resolution of [{ width: 400, height: 720 }, { width: 1920, height: 1920 }, { width: 1281, height: 720 }, { width: 2560, height: 1440 }]) {
    const r = await s.api('POST', `/v2/recordings/room/${id}/start`, { resolution });
    assert.equal(r.status, 400, JSON.stringify(resolution));
    assert.ok(r.body.details.some((d: string) => d.includes('body/resolution')), JSON.stringify(r.body));
  }
  const portrait = await s.api('POST', `/v2/recordings/room/${id}/start`, { resolution: { width: 720, height: 1280 } });
  assert.equal(portrait.status, 200);
  await s.api('POST', `/v2/recordings/${portrait.body.id}/stop`);

  const evil = await s.api('POST', `/v2/recordings/room/${id}/start`, { meeting_url: 'https://evil.example.org/x' });
  assert.equal(evil.status, 400);
  assert.ok(evil.body.details[0].includes('evil.example.org'));
  assert.equal((await s.api('POST', `/v2/recordings/room/${id}/start`, { meeting_url: 'javascript:alert(1)' })).status, 400);
  assert.equal((await s.api('POST', `/v2/recordings/room/${id}/start`, { colour: 'red' })).status, 400);
  assert.equal((await s.api('POST', `/v2/recordings/room/${id}/start`, { transcription: { enabled: true } })).status, 400);
  // a stopping job still holds the room until its worker finishes: use another room
  const id2 = await room('rec-b2');
  const allowed = await s.api('POST', `/v2/recordings/room/${id2}/start`, { meeting_url: 'https://meet.example.com/room?skip_preview=true' });
  assert.equal(allowed.status, 200);
  assert.equal(allowed.body.meeting_url, 'https://meet.example.com/room?skip_preview=true');
  await s.api('POST', `/v2/recordings/${allowed.body.id}/stop`);

  const disabled = await room('rec-disabled');
  await s.api('POST', `/v2/rooms/${disabled}`, { enabled: false });
  assert.equal((await s.api('POST', `/v2/recordings/room/${disabled}/start`, {})).status, 403);
});

test('stop by id, pause/resume need a running recording, list filters and pagination', async () => {
  const id = await room('rec-c');
  const r = (await s.api('POST', `/v2/recordings/room/${id}/start`, {})).body;
  assert.equal((await s.api('POST', `/v2/recordings/room/${id}/pause`)).status, 404, 'starting is not running');
  const stopped = await s.api('POST', `/v2/recordings/${r.id}/stop`);
  assert.equal(stopped.status, 200);
  assert.equal(stopped.body.status, 'failed', 'still queued: ended at once');
  assert.equal((await s.api('POST', '/v2/recordings/aaaaaaaaaaaaaaaaaaaaaaaa/stop')).status, 404);

  const mine = await s.api('GET', `/v2/recordings?room_id=${id}`);
  assert.deepEqual(mine.body.data.map((x: any) => x.id), [r.id]);
  assert.equal(mine.body.data[0].recording_assets, null);
  const stopping = await s.api('GET', '/v2/recordings?status=stopping&limit=100');
  assert.ok(stopping.body.data.every((x: any) => x.status === 'stopping'));
  assert.equal((await s.api('GET', '/v2/recordings?status=paused')).status, 400);
  assert.equal((await s.api('GET', '/v2/recordings/aaaaaaaaaaaaaaaaaaaaaaaa')).status, 404);
});

test('recording assets: list, get, presigned URL downloads with Range; tampered or expired URLs refused', async () => {
  const id = await room('rec-assets');
  const jobId = objectId();
  const key = `${s.services.customerId}/beam/${id}/20261120/Rec-${id}-1.mp4`;
  const src = join(mkdtempSync(join(tmpdir(), 'asset-')), 'a.mp4');
  const bytes = Buffer.from(Array.from({ length: 4096 }, (_, i) => i % 251));
  writeFileSync(src, bytes);
  const { size } = s.services.localStorage.put(key, src);
  const assetId = objectId();
  await s.services.store.db
    .insertInto('assets')
    .values({
      id: assetId, job_id: jobId, room_id: id, session_id: '', type: 'room-composite', status: 'completed',
      path: s.services.localStorage.pathOf(key), storage: 'local', storage_key: key, size, duration: 8,
      metadata: JSON.stringify({ resolution: { width: 1280, height: 720 } }), thumbnails: null, error_message: null,
      created_at: rfc3339(), deleted_at: null,
    })
    .execute();

  const list = await s.api('GET', `/v2/recording-assets?room_id=${id}`);
  assert.equal(list.body.data.length, 1);
  assert.equal(list.body.data[0].job_id, jobId);
  assert.equal(list.body.data[0].size, 4096);
  const one = await s.api('GET', `/v2/recording-assets/${assetId}`);
  assert.equal(one.body.path, `local://roomcast/${key}`);
  assert.deepEqual(one.body.metadata, { resolution: { width: 1280, height: 720 } });
  assert.equal((await s.api('GET', '/v2/recording-assets/aaaaaaaaaaaaaaaaaaaaaaaa')).status, 404);

  const pre = await s.api('GET', `/v2/recording-assets/${assetId}/presigned-url?presign_duration=600`);
  assert.equal(pre.status, 200);
  assert.equal(pre.body.expiry, 600);
  assert.equal(pre.body.id, assetId);
  const full = await fetch(pre.body.url);
  assert.equal(full.status, 200);
  assert.deepEqual(Buffer.from(await full.arrayBuffer()), bytes);
  const part = await fetch(pre.body.url, { headers: { range: 'bytes=100-199' } });
  assert.equal(part.status, 206);
  assert.deepEqual(Buffer.from(await part.arrayBuffer()), bytes.subarray(100, 200));

  const u = new URL(pre.body.url);
  const tamperedSig = new URL(u);
  tamperedSig.searchParams.set('sig', u.searchParams.get('sig')!.replace(/^./, (c) => (c === 'A' ? 'B' : 'A')));
  assert.equal((await fetch(tamperedSig)).status, 403);
  const longer = new URL(u);
  longer.searchParams.set('expires', String(Number(u.searchParams.get('expires')) + 3600));
  assert.equal((await fetch(longer)).status, 403);
  const other = new URL(u.toString().replace('Rec-', 'Rex-'));
  assert.equal((await fetch(other)).status, 403);
  const expired = s.services.localStorage.presign(key, 60, Date.now() - 3600_000);
  assert.equal((await fetch(expired.url)).status, 403);
  assert.equal((await s.api('GET', `/v2/recording-assets/${assetId}/presigned-url?presign_duration=5`)).status, 400);
});
