// The live-streams control plane without a recorder worker (RECORDER_WORKERS=0): streams stay "starting"
// unless the test moves them as a worker would (service.markRunning / finish). The HLS route is exercised
// with files written into the stream's output dir. The media path is test/e2e/liveStream.test.ts.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { objectId, rfc3339 } from '../../src/clock.js';
import type { LiveStreamService } from '../../src/domain/liveStreamService.js';
import { JobSupervisor } from '../../src/domain/jobSupervisor.js';
import { liveOutputDir } from '../../src/storage/live.js';
import type { AssetTable } from '../../src/store/schema.js';

let s: TestServer;
let service: LiveStreamService;
before(async () => {
  s = await startTestServer({ RECORDER_WORKERS: '0', RECORDER_ALLOWED_HOSTS: 'meet.example.com' });
  service = s.services.liveStreams;
});
after(() => s.stop());

async function room(name: string, templateId?: string): Promise<string> {
  const r = await s.api('POST', '/v2/rooms', { name, ...(templateId ? { template_id: templateId } : {}) });
  assert.equal(r.status, 200, JSON.stringify(r.body));
  return r.body.id;
}

async function template(name: string, destinations?: Record<string, unknown>): Promise<string> {
  const t = await s.api('POST', '/v2/templates', { name });
  assert.equal(t.status, 200, JSON.stringify(t.body));
  if (destinations) {
    const d = await s.api('POST', `/v2/templates/${t.body.id}/destinations`, { hlsDestinations: destinations });
    assert.equal(d.status, 200, JSON.stringify(d.body));
  }
  return t.body.id;
}

/** The seed's body, with our own meeting page and the query parameters the seed lists. */
const seedBody = (roomId: string) => ({
  meeting_url: `${s.url}/preview/${roomId}/__internal_recorder?skip_preview=true&ui_mode=activespeaker&name=beam`,
  recording: { hls_vod: true, single_file_per_layer: true },
});

async function running(roomId: string, body: Record<string, unknown> = {}) {
  const r = await s.api('POST', `/v2/live-streams/room/${roomId}/start`, body);
  assert.equal(r.status, 200, JSON.stringify(r.body));
  const moved = await service.markRunning(r.body.id, new Date());
  assert.ok(moved, 'starting → running');
  return r.body;
}

test('start with the seed body → starting with playback.url; a second start → 409; a composite recording may run too', async () => {
  const id = await room('ls-seed');
  const start = await s.api('POST', `/v2/live-streams/room/${id}/start`, seedBody(id));
  assert.equal(start.status, 200, JSON.stringify(start.body));
  const r = start.body;
  assert.match(r.id, /^[0-9a-f]{24}$/);
  assert.equal(r.room_id, id);
  assert.equal(r.status, 'starting');
  assert.deepEqual(r.recording, { hls_vod: true, single_file_per_layer: true });
  assert.equal(r.destination, 'default');
  assert.equal(r.recording_assets, null);
  assert.equal(r.started_at, null);
  assert.equal(r.stopped_at, null);
  assert.equal(r.started_by, '');
  assert.equal(r.stopped_by, '');
  assert.equal(typeof r.session_id, 'string');
  assert.equal(r.meeting_url, seedBody(id).meeting_url);
  const m = new RegExp(`^${s.url}/hls/${r.id}/([A-Za-z0-9_-]{22})/master\\.m3u8$`).exec(r.playback.url);
  assert.ok(m, r.playback.url);

  const again = await s.api('POST', `/v2/live-streams/room/${id}/start`, {});
  assert.equal(again.status, 409);
  assert.equal(again.body.code, 409);
  assert.ok(again.body.details[0].includes(r.id));

  // a separate job kind: a composite recording of the same room is allowed while the stream is on
  const rec = await s.api('POST', `/v2/recordings/room/${id}/start`, {});
  assert.equal(rec.status, 200, JSON.stringify(rec.body));
  await s.api('POST', `/v2/recordings/${rec.body.id}/stop`);

  // no body at all: the defaults (our meeting page, the destination's recording flags)
  const other = await room('ls-nobody');
  const bare = await fetch(`${s.url}/v2/live-streams/room/${other}/start`, { method: 'POST', headers: { authorization: `Bearer ${s.token}` } });
  assert.equal(bare.status, 200);
  const b = (await bare.json()) as any;
  assert.ok(b.meeting_url.startsWith(`${s.url}/preview/${other}/`), b.meeting_url);
  assert.deepEqual(b.recording, { hls_vod: false, single_file_per_layer: false });
  assert.notEqual(new URL(b.playback.url).pathname.split('/')[3], new URL(r.playback.url).pathname.split('/')[3], 'each stream has its own key');
});

test('two starts racing in one room: exactly one stream', async () => {
  const id = await room('ls-race');
  const results = await Promise.all([1, 2, 3].map(() => s.api('POST', `/v2/live-streams/room/${id}/start`, {})));
  assert.deepEqual(results.map((r) => r.status).sort(), [200, 409, 409]);
  assert.equal((await s.api('GET', `/v2/live-streams?room_id=${id}`)).body.data.length, 1);
});

test('bad starts: unknown room 404, disabled room 403, meeting_url host, transcription, extra fields 400', async () => {
  assert.equal((await s.api('POST', '/v2/live-streams/room/aaaaaaaaaaaaaaaaaaaaaaaa/start', {})).status, 404);
  const id = await room('ls-bad');
  const evil = await s.api('POST', `/v2/live-streams/room/${id}/start`, { meeting_url: 'https://evil.example.org/x' });
  assert.equal(evil.status, 400);
  assert.ok(evil.body.details[0].includes('evil.example.org'));
  assert.equal((await s.api('POST', `/v2/live-streams/room/${id}/start`, { meeting_url: 'file:///etc/passwd' })).status, 400);
  assert.equal((await s.api('POST', `/v2/live-streams/room/${id}/start`, { transcription: { enabled: true } })).status, 400);
  assert.equal((await s.api('POST', `/v2/live-streams/room/${id}/start`, { resolution: { width: 1280, height: 720 } })).status, 400);
  assert.equal((await s.api('POST', `/v2/live-streams/room/${id}/start`, { recording: { hls_vod: 'yes' } })).status, 400);
  assert.equal((await s.api('POST', `/v2/live-streams/room/${id}/start`, { recording: { zip: true } })).status, 400);
  const ok = await s.api('POST', `/v2/live-streams/room/${id}/start`, { meeting_url: 'https://meet.example.com/room?skip_preview=true' });
  assert.equal(ok.status, 200, 'an allowed host');
  assert.equal(ok.body.meeting_url, 'https://meet.example.com/room?skip_preview=true');

  const disabled = await room('ls-disabled');
  await s.api('POST', `/v2/rooms/${disabled}`, { enabled: false });
  assert.equal((await s.api('POST', `/v2/live-streams/room/${disabled}/start`, {})).status, 403);
});

test('destination: required among several, unknown → 400, named one used; none on the template → meeting_url required', async () => {
  const layer = (width: number, height: number, videoBitrate: number) => ({ width, height, videoBitrate, audioBitrate: 64 });
  const two = await template('ls-two-dest', {
    main: { layers: [layer(1280, 720, 2000), layer(640, 360, 600)], playlistType: 'event', recording: { hlsVod: true } },
    backup: { layers: [layer(854, 480, 900)], maxDuration: 600 },
  });
  const id = await room('ls-dest', two);
  const missing = await s.api('POST', `/v2/live-streams/room/${id}/start`, {});
  assert.equal(missing.status, 400);
  assert.ok(missing.body.details[0].startsWith('body/destination'), missing.body.details[0]);
  assert.ok(missing.body.details[0].includes('main') && missing.body.details[0].includes('backup'));
  const unknown = await s.api('POST', `/v2/live-streams/room/${id}/start`, { destination: 'nope' });
  assert.equal(unknown.status, 400);
  assert.ok(unknown.body.details[0].includes('nope'));

  const main = await s.api('POST', `/v2/live-streams/room/${id}/start`, { destination: 'main' });
  assert.equal(main.status, 200, JSON.stringify(main.body));
  assert.equal(main.body.destination, 'main');
  assert.deepEqual(main.body.recording, { hls_vod: true, single_file_per_layer: false }, "the destination's recording flags");
  const row = await service.get(main.body.id);
  assert.deepEqual(JSON.parse(row!.layers).map((l: any) => `${l.width}x${l.height}`), ['1280x720', '640x360'], 'layers snapshot');
  assert.equal(row!.playlist_type, 'event');
  await s.api('POST', `/v2/live-streams/${main.body.id}/stop`);

  const none = await template('ls-no-dest', {});
  const id2 = await room('ls-no-dest', none);
  const needUrl = await s.api('POST', `/v2/live-streams/room/${id2}/start`, {});
  assert.equal(needUrl.status, 400);
  assert.ok(needUrl.body.details[0].startsWith('body/meeting_url'), needUrl.body.details[0]);
  const withUrl = await s.api('POST', `/v2/live-streams/room/${id2}/start`, { meeting_url: `${s.url}/preview/${id2}/host?skip_preview=true` });
  assert.equal(withUrl.status, 200, JSON.stringify(withUrl.body));
  assert.equal(withUrl.body.destination, 'default');
});

test('a template that auto-starts composite recording refuses to stream (seed rule)', async () => {
  const t = await template('ls-autostart');
  const set = await s.api('POST', `/v2/templates/${t}/recordings`, [
    { name: 'auto', role: '__internal_recorder', compositeRecording: { browserComposite: { autoStart: true } } },
  ]);
  assert.equal(set.status, 200, JSON.stringify(set.body));
  const id = await room('ls-autostart', t);
  const r = await s.api('POST', `/v2/live-streams/room/${id}/start`, {});
  assert.equal(r.status, 409);
  assert.equal(r.body.message, 'Live streaming is disabled for this template');
  assert.ok(r.body.details[0].includes('autoStart'), r.body.details[0]);
  assert.equal((await s.api('GET', `/v2/live-streams?room_id=${id}`)).body.data.length, 0, 'nothing was created');
});

test('stop by room (list envelope) and by id; stopping twice is harmless; nothing left → 404', async () => {
  const id = await room('ls-stop');
  const r = (await s.api('POST', `/v2/live-streams/room/${id}/start`, {})).body;
  const stop = await s.api('POST', `/v2/live-streams/room/${id}/stop`);
  assert.equal(stop.status, 200);
  assert.equal(stop.body.limit, 10);
  // no recorder ever took it (RECORDER_WORKERS=0): it ends at once, failed BEAM_STOPPED, with its hls.failure
  assert.deepEqual(stop.body.data.map((x: any) => [x.id, x.status, x.error_type]), [[r.id, 'failed', 'BEAM_STOPPED']]);
  assert.equal(stop.body.last, r.id);
  assert.equal(stop.body.data[0].stop_reason, 'failure: BEAM_STOPPED');
  assert.equal(stop.body.data[0].recording_assets, null);
  const hls = (await s.services.events.list({ roomId: id })).filter((e) => e.type.startsWith('hls.'));
  assert.deepEqual(hls.map((e) => [e.type, e.data.error_type]), [['hls.failure', 'BEAM_STOPPED']]);
  assert.equal((await s.api('POST', `/v2/live-streams/room/${id}/stop`)).status, 404);
  assert.equal((await s.api('POST', `/v2/live-streams/${r.id}/stop`)).status, 409, 'already ended');
  assert.equal((await s.api('POST', '/v2/live-streams/aaaaaaaaaaaaaaaaaaaaaaaa/stop')).status, 404);
  const next = await s.api('POST', `/v2/live-streams/room/${id}/start`, {});
  assert.equal(next.status, 200, 'the room is free again');
  const byId = await s.api('POST', `/v2/live-streams/${next.body.id}/stop`);
  assert.equal(byId.status, 200);
  assert.equal(byId.body.status, 'failed');

  const id2 = await room('ls-stop-id');
  const r2 = await running(id2);
  const st = await s.api('POST', `/v2/live-streams/${r2.id}/stop`);
  assert.equal(st.status, 200);
  assert.equal(st.body.status, 'stopping');
  assert.ok(st.body.started_at);
});

test('timed metadata: only while running, payload ≤ 100 characters without quotes, integer duration ≥ 1', async () => {
  const id = await room('ls-meta');
  const start = (await s.api('POST', `/v2/live-streams/room/${id}/start`, {})).body;
  const path = `/v2/live-streams/${start.id}/timed-metadata`;
  assert.equal((await s.api('POST', path, { payload: 'hi', duration: 5 })).status, 409, 'starting is not running');
  await service.markRunning(start.id, new Date());

  const ok = await s.api('POST', path, { payload: 'x'.repeat(100), duration: 5 });
  assert.equal(ok.status, 200, JSON.stringify(ok.body));
  assert.equal(ok.body.id, start.id);
  assert.equal(ok.body.status, 'running');
  const long = await s.api('POST', path, { payload: 'x'.repeat(101), duration: 5 });
  assert.equal(long.status, 400);
  assert.ok(long.body.details.some((d: string) => d.startsWith('body/payload')), JSON.stringify(long.body));
  for (const bad of [
    { payload: 'a', duration: 0 },
    { payload: 'a', duration: 1.5 },
    { payload: 'a' },
    { duration: 3 },
    { payload: '', duration: 3 },
    { payload: 'say "hi"', duration: 3 },
    { payload: 'two\nlines', duration: 3 },
    { payload: 'a', duration: 3, extra: 1 },
  ]) {
    assert.equal((await s.api('POST', path, bad)).status, 400, JSON.stringify(bad));
  }
  assert.equal((await s.api('POST', '/v2/live-streams/aaaaaaaaaaaaaaaaaaaaaaaa/timed-metadata', { payload: 'a', duration: 1 })).status, 404);
  const stored = await s.services.store.db.selectFrom('timed_metadata').selectAll().where('stream_id', '=', start.id).execute();
  assert.deepEqual(stored.map((m) => [m.payload.length, m.duration]), [[100, 5]]);
  await s.api('POST', `/v2/live-streams/${start.id}/stop`);
  assert.equal((await s.api('POST', path, { payload: 'late', duration: 1 })).status, 409);
});

test('pause-recording / resume-recording: running and recorded streams only', async () => {
  const id = await room('ls-pause');
  const plain = await running(id);
  assert.equal((await s.api('POST', `/v2/live-streams/${plain.id}/pause-recording`)).status, 409, 'not recorded');
  await s.api('POST', `/v2/live-streams/${plain.id}/stop`);

  const id2 = await room('ls-pause-rec');
  const rec = await running(id2, { recording: { hls_vod: true } });
  const p = await s.api('POST', `/v2/live-streams/${rec.id}/pause-recording`);
  assert.equal(p.status, 200);
  assert.equal(p.body.status, 'running');
  assert.equal(p.body.recording_paused, true);
  assert.equal((await s.api('POST', `/v2/live-streams/${rec.id}/pause-recording`)).status, 409);
  const r = await s.api('POST', `/v2/live-streams/${rec.id}/resume-recording`);
  assert.equal(r.status, 200);
  assert.equal(r.body.recording_paused, false);
  assert.equal((await s.api('POST', `/v2/live-streams/${rec.id}/resume-recording`)).status, 409);
  assert.equal((await s.api('POST', '/v2/live-streams/aaaaaaaaaaaaaaaaaaaaaaaa/pause-recording')).status, 404);
});

test('list filters and pagination; get by id with recording_assets; hls.* events from the worker moves', async () => {
  const id = await room('ls-list');
  const made: string[] = [];
  for (let i = 0; i < 12; i++) {
    const r = (await s.api('POST', `/v2/live-streams/room/${id}/start`, { recording: { hls_vod: true, single_file_per_layer: true } })).body;
    made.push(r.id);
    await s.api('POST', `/v2/live-streams/${r.id}/stop`);
    // close it as a worker would, so the room is free for the next one
    await service.finish(r.id, { vod: null, singleFiles: [], duration: 0, errorType: 'BEAM_STOPPED', errorMessage: 'stop requested before the recorder started', stoppedAt: new Date() });
  }
  const page1 = await s.api('GET', `/v2/live-streams?room_id=${id}`);
  assert.equal(page1.status, 200);
  assert.equal(page1.body.limit, 10);
  assert.deepEqual(page1.body.data.map((x: any) => x.id), made.slice(2).reverse(), 'newest first');
  assert.ok(page1.body.data.every((x: any) => x.recording_assets === null && x.status === 'failed' && x.error_type === 'BEAM_STOPPED'));
  const page2 = await s.api('GET', `/v2/live-streams?room_id=${id}&start=${page1.body.last}`);
  assert.deepEqual(page2.body.data.map((x: any) => x.id), made.slice(0, 2).reverse());
  const failed = await s.api('GET', '/v2/live-streams?status=failed&limit=100');
  assert.ok(failed.body.data.length >= 12 && failed.body.data.every((x: any) => x.status === 'failed'));
  assert.equal((await s.api('GET', '/v2/live-streams?status=paused')).status, 400);
  assert.equal((await s.api('GET', '/v2/live-streams?limit=5')).status, 400);
  assert.equal((await s.api('GET', '/v2/live-streams/aaaaaaaaaaaaaaaaaaaaaaaa')).status, 404);
  const failure = (await s.services.events.list({ type: 'hls.failure', roomId: id })).at(-1)!;
  assert.equal(failure.data.error_type, 'BEAM_STOPPED');
  assert.equal(failure.data.beam_id, made[11]);
  assert.equal(failure.data.state_name, 'HLSFailed');

  // a stream that ran and made assets: completed, with recording_assets and the hls.* events
  const r = await running(id, { recording: { hls_vod: true, single_file_per_layer: true } });
  const startedEv = (await s.services.events.list({ type: 'hls.started.success', roomId: id })).at(-1)!;
  assert.equal(startedEv.data.job_id, r.id);
  assert.equal(startedEv.data.url, r.playback.url);
  assert.equal(startedEv.data.recording_vod_playlist_enabled, true);
  assert.equal(startedEv.data.recording_single_file_per_layer_enabled, true);
  assert.equal(startedEv.data.state_name, 'HLSStarted');
  assert.deepEqual([startedEv.data.max_width, startedEv.data.max_height], [1280, 720]);
  assert.equal(typeof startedEv.data.start_delay, 'number');
  await s.api('POST', `/v2/live-streams/${r.id}/stop`);
  const asset = (type: string, path: string, metadata: object): AssetTable => ({
    id: objectId(), job_id: r.id, room_id: id, session_id: '', type, status: 'completed', path, storage: 'local',
    storage_key: path, size: 1234, duration: 42, metadata: JSON.stringify(metadata), thumbnails: null, error_message: null,
    created_at: rfc3339(), deleted_at: null,
  });
  const vod = asset('room-vod', 'local://roomcast/x/vod/master.m3u8', { num_layers: '3', max_width: 1280, max_height: 720 });
  const l0 = asset('room-composite', 'local://roomcast/x/Rec-0.mp4', { layer: '0', resolution: { width: 1280, height: 720 } });
  const l1 = asset('room-composite', 'local://roomcast/x/Rec-1.mp4', { layer: '1', resolution: { width: 854, height: 480 } });
  await service.move(r.id, 'post_processing');
  const done = await service.finish(r.id, {
    vod: { asset: vod, presignedUrl: 'http://x/vod' },
    singleFiles: [
      { asset: l0, presignedUrl: 'http://x/0', layer: 0, width: 1280, height: 720 },
      { asset: l1, presignedUrl: 'http://x/1', layer: 1, width: 854, height: 480 },
    ],
    duration: 42.4,
    stoppedAt: new Date(),
  });
  assert.equal(done?.status, 'completed');
  const got = await s.api('GET', `/v2/live-streams/${r.id}`);
  assert.equal(got.body.status, 'completed');
  assert.ok(got.body.stopped_at);
  assert.deepEqual(got.body.recording_assets.map((a: any) => a.type).sort(), ['room-composite', 'room-composite', 'room-vod']);
  assert.equal('job_id' in got.body.recording_assets[0], false);
  const stopped = (await s.services.events.list({ type: 'hls.stopped.success', roomId: id })).at(-1)!;
  assert.equal(stopped.data.job_id, r.id);
  assert.equal(stopped.data.duration, 42);
  assert.equal(stopped.data.reason, 'client request');
  assert.equal(stopped.data.state_name, 'HLSStopped');
  const recEv = (await s.services.events.list({ type: 'hls.recording.success', roomId: id })).at(-1)!;
  assert.equal(recEv.data.recording_id, r.id);
  assert.equal(recEv.data.hls_vod_recording_path, vod.path);
  assert.equal(recEv.data.hls_vod_recording_presigned_url, 'http://x/vod');
  assert.deepEqual(recEv.data.recording_single_files, [
    { asset_id: l0.id, layer: '0', recording_path: l0.path, recording_presigned_url: 'http://x/0', size: 1234, width: 1280, height: 720 },
    { asset_id: l1.id, layer: '1', recording_path: l1.path, recording_presigned_url: 'http://x/1', size: 1234, width: 854, height: 480 },
  ]);
});

test('auto-stop: room empty for autoStopTimeout → last peer left; maxDuration → max duration reached', async () => {
  const sup = new JobSupervisor(s.services);
  const id = await room('ls-auto');
  const r = await running(id);
  await sup.sweep(Date.now() + 10_000);
  assert.equal((await service.get(r.id))!.status, 'running', 'the default timeout is 300 s');
  await sup.sweep(Date.now() + 301_000);
  const after = await service.get(r.id);
  assert.equal(after!.status, 'stopping');
  assert.equal(after!.stop_reason, 'last peer left');

  // someone is in the room: only maxDuration stops it
  const id2 = await room('ls-maxdur');
  const sessionId = objectId();
  await s.services.store.db.insertInto('sessions').values({ id: sessionId, room_id: id2, active: 1, created_at: rfc3339(), updated_at: rfc3339(), ended_at: null }).execute();
  await s.services.store.db
    .insertInto('peers')
    .values({ id: objectId(), session_id: sessionId, room_id: id2, user_id: 'u', name: 'n', role: 'host', user_data: '', type: 'regular', joined_at: rfc3339(), left_at: null, leave_reason: null, leave_message: null })
    .execute();
  const r2 = await running(id2);
  assert.equal(r2.session_id, sessionId, 'the active session');
  await sup.sweep(Date.now() + 3600_000);
  assert.equal((await service.get(r2.id))!.status, 'running');
  await sup.sweep(Date.now() + 4 * 3600_000 + 1000);
  const stopped = await service.get(r2.id);
  assert.equal(stopped!.status, 'stopping');
  assert.equal(stopped!.stop_reason, 'max duration reached');
});

test('/hls serves the output dir with CORS, HLS content types and cache headers; timed metadata as EXT-X-DATERANGE; 404 otherwise', async () => {
  const id = await room('ls-hls');
  const r = await running(id);
  const base = r.playback.url.replace(/master\.m3u8$/, '');
  const dir = liveOutputDir(s.dataDir, r.id);
  mkdirSync(join(dir, '720p'), { recursive: true });
  const master = '#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-STREAM-INF:BANDWIDTH=2800000,RESOLUTION=1280x720,CODECS="avc1.64001f,mp4a.40.2"\n720p/index.m3u8\n';
  writeFileSync(join(dir, 'master.m3u8'), master);
  const t0 = new Date(Date.now() - 4000).toISOString();
  const media = `#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-TARGETDURATION:2\n#EXT-X-MEDIA-SEQUENCE:0\n#EXT-X-PROGRAM-DATE-TIME:${t0}\n#EXTINF:2.000000,\nseg_00000.ts\n#EXTINF:2.000000,\nseg_00001.ts\n`;
  writeFileSync(join(dir, '720p', 'index.m3u8'), media);
  const seg = Buffer.from(Array.from({ length: 188 * 10 }, (_, i) => (i % 188 === 0 ? 0x47 : i % 256)));
  writeFileSync(join(dir, '720p', 'seg_00000.ts'), seg);

  const origin = { origin: 'https://player.example.net' };
  const m = await fetch(r.playback.url, { headers: origin });
  assert.equal(m.status, 200);
  assert.equal(m.headers.get('content-type'), 'application/vnd.apple.mpegurl');
  assert.equal(m.headers.get('access-control-allow-origin'), '*');
  assert.ok(m.headers.get('access-control-expose-headers')?.includes('Content-Length'));
  assert.equal(m.headers.get('cache-control'), 'no-cache');
  assert.equal(await m.text(), master, 'the master is served as written');

  await s.api('POST', `/v2/live-streams/${r.id}/timed-metadata`, { payload: 'slide 2', duration: 7 });
  const pl = await fetch(`${base}720p/index.m3u8`, { headers: origin });
  assert.equal(pl.status, 200);
  assert.equal(pl.headers.get('cache-control'), 'no-cache');
  const text = await pl.text();
  const tag = /#EXT-X-DATERANGE:ID="([0-9a-f]{24})",START-DATE="([^"]+)",DURATION=7,X-100MSLIVE-PAYLOAD="slide 2"/.exec(text);
  assert.ok(tag, text);
  assert.ok(text.indexOf('#EXT-X-DATERANGE') < text.indexOf('#EXT-X-PROGRAM-DATE-TIME'), 'before the first segment');
  assert.ok(Date.parse(tag[2]) > Date.parse(t0));

  const sg = await fetch(`${base}720p/seg_00000.ts`, { headers: origin });
  assert.equal(sg.status, 200);
  assert.equal(sg.headers.get('content-type'), 'video/mp2t');
  assert.equal(sg.headers.get('access-control-allow-origin'), '*');
  assert.match(sg.headers.get('cache-control') ?? '', /max-age=31536000/);
  assert.deepEqual(Buffer.from(await sg.arrayBuffer()), seg);
  const part = await fetch(`${base}720p/seg_00000.ts`, { headers: { range: 'bytes=0-187' } });
  assert.equal(part.status, 206);
  assert.equal((await part.arrayBuffer()).byteLength, 188);

  const pre = await fetch(r.playback.url, { method: 'OPTIONS', headers: { ...origin, 'access-control-request-method': 'GET', 'access-control-request-headers': 'range' } });
  assert.equal(pre.status, 204);
  assert.equal(pre.headers.get('access-control-allow-origin'), '*');
  assert.ok(pre.headers.get('access-control-allow-methods')?.includes('GET'));
  assert.ok(pre.headers.get('access-control-allow-headers')?.toLowerCase().includes('range'));

  // outside the dir, wrong key, unknown stream, not yet written, unknown types: all 404, with CORS
  writeFileSync(join(s.dataDir, 'live', 'secret.ts'), 'x');
  const key = new URL(r.playback.url).pathname.split('/')[3];
  const wrongKey = r.playback.url.replace(`/${key}/`, `/${key.slice(0, -1)}${key.endsWith('A') ? 'B' : 'A'}/`);
  for (const url of [
    wrongKey,
    `${s.url}/hls/${r.id}/master.m3u8`,
    `${s.url}/hls/aaaaaaaaaaaaaaaaaaaaaaaa/${key}/master.m3u8`,
    `${base}..%2Fsecret.ts`,
    `${base}720p/..%2F..%2Fsecret.ts`,
    `${base}%2E%2E/secret.ts`,
    `${base}720p/seg_00099.ts`,
    `${base}720p/.hidden.ts`,
    `${base}720p/seg_00000.ts.tmp`,
  ]) {
    const res = await fetch(url);
    assert.equal(res.status, 404, url);
    assert.equal(res.headers.get('access-control-allow-origin'), '*', url);
  }
  // the playback URL needs no management token, and a token does not open another stream's files
  const other = await room('ls-hls-2');
  const r2 = await running(other);
  const res = await fetch(r2.playback.url.replace(/\/[^/]+\/master\.m3u8$/, `/${key}/master.m3u8`), { headers: { authorization: `Bearer ${s.token}` } });
  assert.equal(res.status, 404);
});

test("the HLS viewer endpoint: an app token of the room gets the running stream's playback URL; hls.js is served", async () => {
  const id = await room('ls-viewer');
  const other = await room('ls-viewer-other');
  const ask = (token?: string) => fetch(`${s.url}/live/room/${id}/playback`, { headers: token ? { authorization: `Bearer ${token}` } : {} });
  const viewerToken = await s.appToken(id, 'hls-viewer', 'v1');
  assert.equal((await ask()).status, 401);
  assert.equal((await ask('not-a-jwt')).status, 401);
  assert.equal((await ask(s.token)).status, 403, 'management tokens are not viewer tokens');
  assert.equal((await ask(await s.appToken(other, 'hls-viewer', 'v1'))).status, 403, 'a token of another room');
  const none = await ask(viewerToken);
  assert.equal(none.status, 404);
  const r = await running(id);
  const res = await ask(viewerToken);
  assert.equal(res.status, 200);
  assert.deepEqual(await res.json(), { id: r.id, status: 'running', playback_url: r.playback.url });

  const js = await fetch(`${s.url}/vendor/hls.min.js`);
  assert.equal(js.status, 200);
  assert.match(js.headers.get('content-type') ?? '', /javascript/);
  assert.ok((await js.text()).length > 100_000);
  const viewerModule = await fetch(`${s.url}/meeting-assets/hlsViewer.js`);
  assert.equal(viewerModule.status, 200);
});
