// Uploads to a real S3-compatible server (../shared/tools/s3-test-server: Swift + s3api, real SigV4): the key
// layout, presigned URLs (good, tampered, expired), multipart, the store going away during and before an upload,
// a restart with an upload pending, UPLOAD_ERROR for configurations the store refuses, and what the upload
// manager reports (it decides no event itself); a fleet machine's asset stranded by its death, rebuilt elsewhere.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { appendFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GetObjectCommand, HeadObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { useS3Bucket } from '../helpers/s3TestServer.js';
import { assetRow, download, recordAsset, roomWithStorage, sha256 } from '../helpers/recordedAsset.js';
import { waitFor } from '../helpers/webhookReceiver.js';
import { UploadManager, localNodeId, type UploadAttempt, type UploadProgress } from '../../src/storage/uploads.js';
import { StrandedAssets } from '../../src/recorder/strandedAssets.js';
import { ffmpegMediaTools } from '../../src/recorder/mediaTools.js';
import { objectId } from '../../src/clock.js';
import type { AssetTable } from '../../src/store/schema.js';
import { storeFor } from '../../src/storage/index.js';
import { liveRoundTrip, partsRoundTrip } from '../helpers/partsRoundTrip.js';
import { PartStreamer } from '../../src/recorder/streamedParts.js';
import { partsPrefixOf } from '../../src/storage/parts.js';
import { createLogger } from '../../src/logger.js';

const BUCKET = 'recordings';
const MiB = 1024 * 1024;
let client: S3Client;
let s: TestServer;
const s3 = useS3Bucket(BUCKET, (started) => ({ s, client } = started));

async function stored(key: string): Promise<Buffer> {
  const res = await client.send(new GetObjectCommand({ Bucket: BUCKET, Key: key }));
  return Buffer.from(await res.Body!.transformToByteArray());
}

async function uploaded(id: string, timeoutMs = 90_000) {
  return waitFor(`asset ${id} uploaded`, async () => {
    const a = await assetRow(s, id);
    return a.upload_state === 'done' ? a : null;
  }, timeoutMs);
}

async function eventsOf(type: string, roomId: string) {
  return s.services.events.list({ type, roomId });
}

test('an asset lands under <prefix>/beam/<room>/<date>/Rec-<room>-<epoch>.mp4; presigned URLs download it; tampered and expired ones are refused', async () => {
  const room = await roomWithStorage(s, 's3-basic', s3.upload(BUCKET, '/tenant-a/'));
  const rec = await recordAsset(s, room, 3 * MiB + 17);
  const a = await uploaded(rec.assetId);
  const m = /^[0-9a-f]{24}\/beam\/([0-9a-f]{24})\/(\d{8})\/Rec-\1-(\d{13})\.mp4$/.exec(rec.localKey);
  assert.ok(m, rec.localKey);
  const key = `tenant-a/beam/${room}/${m[2]}/Rec-${room}-${m[3]}.mp4`;
  assert.equal(a.storage, 's3');
  assert.equal(a.storage_key, key);
  assert.equal(a.path, `s3://${BUCKET}/${key}`);
  const head = await client.send(new HeadObjectCommand({ Bucket: BUCKET, Key: key }));
  assert.equal(head.ContentLength, rec.bytes.length);
  assert.equal(head.ContentType, 'video/mp4');
  assert.equal(sha256(await stored(key)), rec.sha256);
  assert.equal(s.services.localStorage.exists(rec.localKey), false, 'the local copy is deleted once the store has it');

  const api = await s.api('GET', `/v2/recording-assets/${rec.assetId}`);
  assert.equal(api.body.path, `s3://${BUCKET}/${key}`);
  const pre = await s.api('GET', `/v2/recording-assets/${rec.assetId}/presigned-url`);
  assert.equal(pre.status, 200, JSON.stringify(pre.body));
  assert.equal(pre.body.expiry, 3 * 86400);
  const u = new URL(pre.body.url);
  assert.equal(u.origin, s3.endpoint);
  assert.equal(u.pathname, `/${BUCKET}/${key}`);
  assert.equal(u.searchParams.get('X-Amz-Expires'), String(3 * 86400));
  const dl = await download(pre.body.url);
  assert.equal(dl.status, 200);
  assert.equal(sha256(dl.body), rec.sha256);
  const short = await s.api('GET', `/v2/recording-assets/${rec.assetId}/presigned-url?presign_duration=600`);
  assert.equal(new URL(short.body.url).searchParams.get('X-Amz-Expires'), '600');

  // refused by the store itself: a changed signature, a changed key, an expired URL
  const sig = u.searchParams.get('X-Amz-Signature')!;
  const bad = new URL(pre.body.url);
  bad.searchParams.set('X-Amz-Signature', (sig[0] === 'a' ? 'b' : 'a') + sig.slice(1));
  assert.equal((await download(bad.toString())).status, 403);
  assert.equal((await download(pre.body.url.replace('.mp4?', '.mp3?'))).status, 403);
  const expiring = await s.services.uploads.presign(a, 1);
  await new Promise((r) => setTimeout(r, 2500));
  assert.equal((await download(expiring.url)).status, 403);

  // the webhook event follows the upload: store path and a presigned URL of the store
  const types = (await s.services.events.list({ roomId: room })).map((e) => e.type);
  assert.deepEqual(types.filter((t) => t.startsWith('beam.')), ['beam.stopped.success', 'beam.recording.success']);
  const [ev] = await eventsOf('beam.recording.success', room);
  assert.equal(ev.data.recording_path, a.path);
  assert.equal(ev.data.recording_id, rec.recordingId);
  assert.equal(ev.data.size, rec.bytes.length);
  assert.ok(String(ev.data.recording_presigned_url).startsWith(`${s3.endpoint}/${BUCKET}/`));
  assert.equal(new URL(String(ev.data.recording_presigned_url)).searchParams.get('X-Amz-Expires'), String(24 * 3600));
  assert.equal(sha256((await download(String(ev.data.recording_presigned_url))).body), rec.sha256);
});

test('no prefix: the customer id is the prefix', async () => {
  const room = await roomWithStorage(s, 's3-noprefix', s3.upload(BUCKET));
  const rec = await recordAsset(s, room, 1000);
  const a = await uploaded(rec.assetId);
  assert.equal(a.storage_key, rec.localKey);
  assert.ok(a.storage_key.startsWith(`${s.services.customerId}/beam/${room}/`));
  assert.equal(sha256(await stored(a.storage_key)), rec.sha256);
});

test('a 40 MiB recording goes up in parts (multipart) and arrives whole', async (t) => {
  const room = await roomWithStorage(s, 's3-multipart', s3.upload(BUCKET, 'mp'));
  let result: UploadAttempt | undefined;
  const onAttempt = (r: UploadAttempt) => {
    if (r.ok) result = r;
  };
  s.services.uploads.on('attempt', onAttempt);
  const progress: number[] = [];
  const onProgress = (p: UploadProgress) => progress.push(p.bytes);
  s.services.uploads.on('progress', onProgress);
  try {
    const rec = await recordAsset(s, room, 40 * MiB);
    const a = await uploaded(rec.assetId);
    assert.equal(sha256(await stored(a.storage_key)), rec.sha256);
    assert.ok(progress.length >= 5, `one progress report per 8 MiB part, got ${progress.length}`);
    assert.equal(Math.max(...progress), 40 * MiB);
    assert.ok(result && result.size === 40 * MiB);
    t.diagnostic(`40 MiB multipart upload on loopback: ${result!.seconds!.toFixed(2)} s, ${(40 / result!.seconds!).toFixed(1)} MiB/s`);
  } finally {
    s.services.uploads.off('attempt', onAttempt);
    s.services.uploads.off('progress', onProgress);
  }
});

test('the store stops during an upload: the local copy stays downloadable; when it is back the asset arrives', async (t) => {
  const room = await roomWithStorage(s, 's3-outage', s3.upload(BUCKET, 'outage'));
  let killed = false;
  const onProgress = () => {
    if (killed) return;
    killed = true;
    // synchronous: the store is gone before another part can finish
    s3.stop();
  };
  s.services.uploads.on('progress', onProgress);
  const failures: UploadAttempt[] = [];
  const onAttempt = (r: UploadAttempt) => {
    if (!r.ok) failures.push(r);
  };
  s.services.uploads.on('attempt', onAttempt);
  try {
    const rec = await recordAsset(s, room, 40 * MiB);
    await waitFor('a failed attempt', () => failures.length >= 1, 60_000);
    assert.ok(killed);
    t.diagnostic(`failed attempt: ${failures[0].error}`);
    assert.equal(failures[0].configError, false);
    let a = await assetRow(s, rec.assetId);
    assert.equal(a.upload_state, 'pending');
    assert.equal(a.storage, 'local');
    assert.ok(s.services.localStorage.exists(rec.localKey), 'the local copy is kept');
    // still downloadable, from this server
    const pre = await s.api('GET', `/v2/recording-assets/${rec.assetId}/presigned-url`);
    assert.equal(pre.status, 200);
    assert.ok(pre.body.url.startsWith(`${s.url}/assets/`), pre.body.url);
    assert.equal(sha256((await download(pre.body.url)).body), rec.sha256);
    // announced after the first failed attempt, with the local path and URL
    const [ev] = await eventsOf('beam.recording.success', room);
    assert.ok(String(ev.data.recording_path).startsWith('local://'));
    const localUrl = String(ev.data.recording_presigned_url);
    assert.ok(localUrl.startsWith(`${s.url}/assets/`));

    await waitFor('a second failed attempt', () => failures.length >= 2, 60_000);
    await s3.start();
    a = await uploaded(rec.assetId);
    assert.equal(sha256(await stored(a.storage_key)), rec.sha256);
    assert.equal(s.services.localStorage.exists(rec.localKey), false);
    // the local URL handed out earlier still works: it redirects to the store
    const after = await download(localUrl);
    assert.equal(after.status, 200);
    assert.equal(after.redirected, true);
    assert.equal(sha256(after.body), rec.sha256);
    assert.equal((await eventsOf('beam.recording.success', room)).length, 1, 'announced once');
    assert.equal((await eventsOf('beam.failure', room)).length, 0);
  } finally {
    s.services.uploads.off('progress', onProgress);
    s.services.uploads.off('attempt', onAttempt);
    if (!s3.running) await s3.start();
  }
});

test('the store is down before the upload and roomcast restarts meanwhile: the next start resumes the upload', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'roomcast-s3-restart-'));
  let s2 = await startTestServer({ RECORDER_WORKERS: '0', STORAGE_ALLOW_PRIVATE: 'true' }, dir);
  try {
    s3.stop();
    const room = await roomWithStorage(s2, 's3-restart', s3.upload(BUCKET, 'restart'));
    const rec = await recordAsset(s2, room, 2 * MiB);
    await waitFor('a failed attempt', async () => ((await assetRow(s2, rec.assetId)).upload_attempts ?? 0) >= 1, 30_000);
    await s2.stop();
    await s3.start();
    s2 = await startTestServer({ RECORDER_WORKERS: '0', STORAGE_ALLOW_PRIVATE: 'true' }, dir);
    const a = await waitFor('uploaded after the restart', async () => {
      const row = await assetRow(s2, rec.assetId);
      return row.upload_state === 'done' ? row : null;
    }, 90_000);
    assert.equal(sha256(await stored(a.storage_key)), rec.sha256);
    assert.equal(s2.services.localStorage.exists(rec.localKey), false);
  } finally {
    if (!s3.running) await s3.start();
    await s2.stop();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('refused credentials or a missing bucket: 4 attempts, then UPLOAD_ERROR; the recording stays downloadable; fixed config brings it home', async () => {
  const wrongSecret = await roomWithStorage(s, 's3-badcreds', s3.upload(BUCKET, 'bad', 'not-the-secret'));
  const noBucket = await roomWithStorage(s, 's3-nobucket', s3.upload('no-such-bucket', 'bad'));
  const recs = [await recordAsset(s, wrongSecret, 4096), await recordAsset(s, noBucket, 4096)];
  for (const [i, rec] of recs.entries()) {
    const room = [wrongSecret, noBucket][i];
    const a = await waitFor('UPLOAD_ERROR', async () => {
      const row = await assetRow(s, rec.assetId);
      return row.upload_state === 'failed' ? row : null;
    }, 60_000);
    assert.equal(a.upload_attempts, 4);
    assert.match(a.upload_error!, i === 0 ? /SignatureDoesNotMatch|AccessDenied|InvalidAccessKeyId/ : /NoSuchBucket/);
    const failures = await eventsOf('beam.failure', room);
    assert.equal(failures.length, 1);
    assert.equal(failures[0].data.error_type, 'UPLOAD_ERROR');
    assert.equal(failures[0].data.job_id, rec.recordingId);
    const job = await s.api('GET', `/v2/recordings/${rec.recordingId}`);
    assert.equal(job.body.status, 'completed');
    assert.equal(job.body.error_type, 'UPLOAD_ERROR');
    // nothing lost: downloadable from this server
    const pre = await s.api('GET', `/v2/recording-assets/${rec.assetId}/presigned-url`);
    assert.equal(sha256((await download(pre.body.url)).body), rec.sha256);
    assert.equal((await eventsOf('beam.recording.success', room)).length, 1);
  }
  // failed uploads are retried hourly: fix the credentials and let that hour pass
  const tpl = (await s.api('GET', `/v2/rooms/${wrongSecret}`)).body.template_id;
  const fixed = await s.api('POST', `/v2/templates/${tpl}/settings`, { recording: { upload: s3.upload(BUCKET, 'bad') } });
  assert.equal(fixed.status, 200, JSON.stringify(fixed.body));
  await s.services.store.db.updateTable('assets').set({ upload_next_at: new Date().toISOString() }).where('id', '=', recs[0].assetId).execute();
  const a = await uploaded(recs[0].assetId);
  assert.equal(sha256(await stored(a.storage_key)), recs[0].sha256);
  assert.equal((await s.api('GET', `/v2/recordings/${recs[0].recordingId}`)).body.error_type, undefined);
});

test('a live stream\'s room-vod (master, layer playlists, segments) lands in the bucket whole; the local directory goes', async () => {
  const room = await roomWithStorage(s, 's3-vod', s3.upload(BUCKET, '/tenant-v/'));
  const dirKey = `${s.services.customerId}/hls/${room}/20261120/1763600000000/vod`;
  const files: Record<string, string> = {
    '720p/index.m3u8': '#EXTM3U\n#EXT-X-PLAYLIST-TYPE:VOD\n#EXTINF:2.0,\nseg_00000.ts\n#EXT-X-ENDLIST\n',
    '720p/seg_00000.ts': 'x'.repeat(5000),
    'master.m3u8': '#EXTM3U\n#EXT-X-STREAM-INF:BANDWIDTH=2800000,RESOLUTION=1280x720\n720p/index.m3u8\n',
  };
  const src = mkdtempSync(join(tmpdir(), 'vod-'));
  for (const [rel, text] of Object.entries(files)) {
    const f = join(src, rel.replace('/', '_'));
    writeFileSync(f, text);
    s.services.localStorage.put(`${dirKey}/${rel}`, f);
  }
  rmSync(src, { recursive: true, force: true });
  const id = objectId();
  const row: AssetTable = {
      id, job_id: id, room_id: room, session_id: '', type: 'room-vod', status: 'completed',
      path: s.services.localStorage.pathOf(`${dirKey}/master.m3u8`), storage: 'local', storage_key: `${dirKey}/master.m3u8`,
      size: 5200, duration: 2, metadata: JSON.stringify({ num_layers: '1', max_width: 1280, max_height: 720 }),
      thumbnails: null, error_message: null, created_at: new Date().toISOString(), deleted_at: null,
  };
  const asset = await s.services.uploads.prepare(row, false);
  assert.equal(asset.upload_state, 'pending');
  await s.services.store.db.insertInto('assets').values(asset).execute();
  await s.services.uploads.schedule(id);
  const a = await uploaded(id);
  const remoteDir = `tenant-v/hls/${room}/20261120/1763600000000/vod`;
  assert.equal(a.storage_key, `${remoteDir}/master.m3u8`);
  assert.equal(a.path, `s3://${BUCKET}/${remoteDir}/master.m3u8`);
  for (const [rel, text] of Object.entries(files)) assert.equal((await stored(`${remoteDir}/${rel}`)).toString(), text, rel);
  assert.equal(s.services.localStorage.exists(`${dirKey}/master.m3u8`), false, 'the local VOD directory is removed');
});

test('the upload manager decides no event: it reports uploaded / failed (given up once) to the listener it is built with', async () => {
  const good = await roomWithStorage(s, 's3-reports', s3.upload(BUCKET, 'reports'));
  const refused = await roomWithStorage(s, 's3-reports-bad', s3.upload(BUCKET, 'reports', 'not-the-secret'));
  const reports: { kind: string; assetId: string; jobId: string; storage: string; recovered?: boolean; tries?: number; givenUp?: boolean; error?: string }[] = [];
  const manager = new UploadManager(s.services, {
    async uploaded({ asset, recovered }) {
      reports.push({ kind: 'uploaded', assetId: asset.id, jobId: asset.job_id, storage: asset.storage, recovered });
    },
    async failed({ asset, tries, error, givenUp }) {
      reports.push({ kind: 'failed', assetId: asset.id, jobId: asset.job_id, storage: asset.storage, tries, givenUp, error });
    },
  });
  // the server's own manager is stopped meanwhile: it would take these assets up after a failed attempt
  await s.services.uploads.stop();
  const ids: string[] = [];
  try {
    const assetIn = async (roomId: string) => {
      const id = objectId();
      const jobId = objectId();
      const key = `${s.services.customerId}/beam/${roomId}/20261120/Rec-${roomId}-1763600000000.mp4`;
      const src = join(mkdtempSync(join(tmpdir(), 'reports-')), 'a.mp4');
      writeFileSync(src, 'x'.repeat(3000));
      s.services.localStorage.put(key, src);
      const row: AssetTable = {
        id, job_id: jobId, room_id: roomId, session_id: '', type: 'room-composite', status: 'completed',
        path: s.services.localStorage.pathOf(key), storage: 'local', storage_key: key, size: 3000, duration: 1, metadata: '{}',
        thumbnails: null, error_message: null, created_at: new Date().toISOString(), deleted_at: null,
      };
      const prepared = await manager.prepare(row, true);
      await s.services.store.db.insertInto('assets').values(prepared).execute();
      ids.push(id);
      return prepared;
    };
    const a = await assetIn(good);
    assert.equal((await manager.attempt(a)).ok, true);
    assert.deepEqual(reports.slice(), [{ kind: 'uploaded', assetId: a.id, jobId: a.job_id, storage: 's3', recovered: false }]);

    reports.length = 0;
    const b = await assetIn(refused);
    assert.equal((await manager.attempt(b)).ok, false);
    // the 4th refusal is the one given up on; the hourly retries after it report failures, not given up again
    await s.services.store.db.updateTable('assets').set({ upload_attempts: 3 }).where('id', '=', b.id).execute();
    await manager.attempt(await assetRow(s, b.id));
    assert.equal((await assetRow(s, b.id)).upload_state, 'failed');
    await manager.attempt(await assetRow(s, b.id));
    assert.deepEqual(reports.map((r) => [r.kind, r.assetId, r.jobId, r.storage, r.tries, r.givenUp]), [
      ['failed', b.id, b.job_id, 'local', 1, false],
      ['failed', b.id, b.job_id, 'local', 4, true],
      ['failed', b.id, b.job_id, 'local', 5, false],
    ]);
    assert.match(reports[1].error!, /SignatureDoesNotMatch|AccessDenied|InvalidAccessKeyId/);

    // no event from the manager itself, and no event claimed
    for (const room of [good, refused]) {
      const types = (await s.services.events.list({ roomId: room })).map((e) => e.type);
      assert.deepEqual(types.filter((t) => /^(beam|hls)\./.test(t)), [], room);
    }
    for (const id of ids) assert.equal((await assetRow(s, id)).event_sent, 0);
  } finally {
    await s.services.store.db.deleteFrom('assets').where('id', 'in', ids.length ? ids : ['-']).execute();
    await s.services.uploads.start();
  }
});

test('a recording streamed in parts while it records comes back whole from the bucket, and its parts go; so does a fleet\'s live stream', async () => {
  const store = storeFor({ type: 's3', location: BUCKET, prefix: 'p', endpoint: s3.endpoint, region: 'us-east-1', key: 'test:tester', secret: 'testing' }, { allowPrivateEndpoint: true });
  try {
    await partsRoundTrip(store, 'p');
    await liveRoundTrip(store, 'p');
  } finally {
    store.close();
  }
});

test('a long recording whose parts went up while it recorded: the upload at the stop copies them inside the bucket and sends only the tail', async (t) => {
  const room = await roomWithStorage(s, 's3-sealed', s3.upload(BUCKET, 'sealed'));
  const progress: number[] = [];
  const onProgress = (p: UploadProgress) => progress.push(p.bytes);
  s.services.uploads.on('progress', onProgress);
  const store = storeFor({ type: 's3', location: BUCKET, prefix: 'sealed', endpoint: s3.endpoint, region: 'us-east-1', key: 'test:tester', secret: 'testing' }, { allowPrivateEndpoint: true });
  try {
    // 20 MiB recorded in 1 MiB steps, streamed after each: two sealed parts of 8 MiB, the rest small
    const rec = await recordAsset(s, room, 20 * MiB, {
      beforeFinish: async (recordingId, file) => {
        const work = mkdtempSync(join(tmpdir(), 'sealed-'));
        try {
          mkdirSync(join(work, 'attempt-1'));
          const segment = join(work, 'attempt-1', 'segment-0000.mp4');
          const bytes = readFileSync(file);
          const streamer = new PartStreamer({ store, prefix: partsPrefixOf({ prefix: 'sealed' }, recordingId) }, work, createLogger('silent'));
          writeFileSync(segment, '');
          for (let at = 0; at < bytes.length; at += MiB) {
            appendFileSync(segment, bytes.subarray(at, at + MiB));
            assert.equal(await streamer.flush(), true);
          }
          const parts = await store.list(partsPrefixOf({ prefix: 'sealed' }, recordingId));
          assert.deepEqual(parts.map((p) => p.size), [8 * MiB, 8 * MiB, MiB, MiB, MiB, MiB], 'sealed parts replace the small ones');
        } finally {
          rmSync(work, { recursive: true, force: true });
        }
      },
    });
    const a = await uploaded(rec.assetId);
    assert.equal(sha256(await stored(a.storage_key)), rec.sha256, 'the object in the bucket is the recording, byte for byte');
    assert.equal(Math.max(...progress), 4 * MiB, 'only the 4 MiB after the sealed parts were sent');
    // the parts go right after the asset is stored
    await waitFor('the parts removed', async () => (await store.list(partsPrefixOf({ prefix: 'sealed' }, rec.recordingId))).length === 0, 10_000);
    t.diagnostic('20 MiB asset: 16 MiB copied inside the bucket, 4 MiB sent');
  } finally {
    s.services.uploads.off('progress', onProgress);
    store.close();
  }
});

test('a fleet machine died after making a recording\'s asset, before its upload: another rebuilds it from its parts in the bucket and uploads it', async () => {
  const room = await roomWithStorage(s, 's3-stranded', s3.upload(BUCKET, 'stranded'));
  const store = storeFor({ type: 's3', location: BUCKET, prefix: 'stranded', endpoint: s3.endpoint, region: 'us-east-1', key: 'test:tester', secret: 'testing' }, { allowPrivateEndpoint: true });
  const db = s.services.store.db;
  // the dead machine's asset is made while this server uploads nothing (it is not that machine)
  await s.services.uploads.stop();
  let restarted = false;
  try {
    const rec = await recordAsset(s, room, 3 * MiB, {
      // what the dead machine's worker streamed while it recorded, up to the stop
      beforeFinish: async (recordingId, file) => {
        const work = mkdtempSync(join(tmpdir(), 'stranded-'));
        try {
          mkdirSync(join(work, 'attempt-1'));
          writeFileSync(join(work, 'attempt-1', 'segment-0000.mp4'), readFileSync(file));
          assert.equal(await new PartStreamer({ store, prefix: partsPrefixOf({ prefix: 'stranded' }, recordingId) }, work, createLogger('silent')).flush(), true);
        } finally {
          rmSync(work, { recursive: true, force: true });
        }
      },
    });
    const alive = await recordAsset(s, room, 1000);
    // made on other machines: their copies are on disks that are not ours, one of them gone with its machine
    await db.updateTable('assets').set({ local_node: 'dead-machine:/data' }).where('id', '=', rec.assetId).execute();
    await db.updateTable('assets').set({ local_node: 'live-machine:/data' }).where('id', '=', alive.assetId).execute();
    s.services.localStorage.remove(rec.localKey);
    const sweeper = new StrandedAssets(
      {
        db,
        log: createLogger('silent'),
        localStorage: s.services.localStorage,
        // the machines reporting now: the live one, and this one
        queue: { machines: async () => [{ id: 'w', host: 'live-machine', pid: 1, recorders: 1, running: 0, cores: 2, freeCores: 1, draining: false, storageNode: 'live-machine:/data', at: new Date().toISOString() }] },
        uploads: s.services.uploads,
        media: ffmpegMediaTools,
        storageNode: localNodeId(s.services),
      },
      0,
    );
    assert.equal(await sweeper.sweep(), 1, 'the dead machine\'s asset is adopted, the live machine\'s is not');
    assert.equal((await assetRow(s, alive.assetId)).local_node, 'live-machine:/data');
    await s.services.uploads.start();
    restarted = true;
    const a = await uploaded(rec.assetId);
    assert.equal(sha256(await stored(a.storage_key)), rec.sha256, 'the asset in the bucket is the recording, byte for byte');
    await waitFor('the parts removed', async () => (await store.list(partsPrefixOf({ prefix: 'stranded' }, rec.recordingId))).length === 0, 10_000);
    const ev = (await eventsOf('beam.recording.success', room)).find((e) => e.data.recording_id === rec.recordingId);
    assert.ok(ev && String(ev.data.recording_path).startsWith(`s3://${BUCKET}/`), JSON.stringify(ev?.data));
    assert.equal(await sweeper.sweep(), 0, 'nothing left to adopt');
  } finally {
    if (!restarted) await s.services.uploads.start();
    store.close();
  }
});
