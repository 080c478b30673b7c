// A live stream's recordings and the room's own bucket (real S3-compatible server, ../shared/tools/s3-test-server):
// hls.recording.success goes out once, after the uploads, with the bucket's paths and working presigned URLs
// that live for the destination's presignDuration; a bucket that refuses the upload ends in hls.failure
// UPLOAD_ERROR. Also presignDuration of the recording config for beam.recording.success.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { type S3Client } from '@aws-sdk/client-s3';
import type { TestServer } from '../helpers/server.js';
import { useS3Bucket } from '../helpers/s3TestServer.js';
import { assetRow, download, recordAsset, recordLiveStream, sha256 } from '../helpers/recordedAsset.js';
import { waitFor } from '../helpers/webhookReceiver.js';

const BUCKET = 'live-recordings';
let client: S3Client;
let s: TestServer;
const s3 = useS3Bucket(BUCKET, (started) => ({ s, client } = started));

/** A room on a template with this storage, HLS recording presignDuration and recording-config presignDuration. */
async function room(name: string, upload: Record<string, unknown>, presign: { hls?: number; recording?: number } = {}): Promise<string> {
  const t = await s.api('POST', '/v2/templates', {
    name: `tpl-${name}`,
    settings: { recording: { upload } },
    destinations: { hlsDestinations: { default: { name: 'default', recording: { hlsVod: true, singleFilePerLayer: true, ...(presign.hls ? { presignDuration: presign.hls } : {}) } } } },
  });
  assert.equal(t.status, 200, JSON.stringify(t.body));
  if (presign.recording) {
    const r = await s.api('POST', `/v2/templates/${t.body.id}/recordings`, [{ name: 'default', role: '__internal_recorder', presignDuration: presign.recording }]);
    assert.equal(r.status, 200, JSON.stringify(r.body));
  }
  const r = await s.api('POST', '/v2/rooms', { name, template_id: t.body.id });
  assert.equal(r.status, 200, JSON.stringify(r.body));
  return r.body.id;
}

const events = (type: string, roomId: string) => s.services.events.list({ type, roomId });

test('hls.recording.success follows the uploads: bucket paths, presigned URLs that download and live presignDuration', async () => {
  const roomId = await room('live-s3', s3.upload(BUCKET, 'tenant-l'), { hls: 7200 });
  const rec = await recordLiveStream(s, roomId);
  for (const id of [rec.fileAssetId, rec.vodAssetId]) {
    await waitFor(`asset ${id} uploaded`, async () => (await assetRow(s, id)).upload_state === 'done', 90_000);
  }
  const ev = await waitFor('hls.recording.success', async () => (await events('hls.recording.success', roomId))[0], 30_000);
  // the stream's own events came first: stopped, then the recording once it is in the bucket
  assert.deepEqual((await s.services.events.list({ roomId })).map((e) => e.type).filter((t) => t.startsWith('hls.')), ['hls.stopped.success', 'hls.recording.success']);
  const d = ev.data as any;
  assert.equal(d.recording_id, rec.streamId);
  assert.match(d.hls_vod_recording_path, new RegExp(`^s3://${BUCKET}/tenant-l/hls/${roomId}/\\d{8}/\\d{13}/vod/master\\.m3u8$`));
  assert.equal(d.recording_single_files.length, 1);
  const f = d.recording_single_files[0];
  assert.equal(f.asset_id, rec.fileAssetId);
  assert.deepEqual([f.layer, f.width, f.height], ['0', 1280, 720]);
  assert.match(f.recording_path, new RegExp(`^s3://${BUCKET}/tenant-l/hls/${roomId}/\\d{8}/\\d{13}/file-recording/Rec-${roomId}-\\d{13}-0\\.mp4$`));
  for (const url of [f.recording_presigned_url, d.hls_vod_recording_presigned_url]) {
    const u = new URL(url);
    assert.equal(u.origin, s3.endpoint, url);
    assert.equal(u.searchParams.get('X-Amz-Expires'), '7200', 'the destination presignDuration');
  }
  const file = await download(f.recording_presigned_url);
  assert.equal(file.status, 200);
  assert.equal(sha256(file.body), rec.fileSha256);
  const master = await download(d.hls_vod_recording_presigned_url);
  assert.equal(master.status, 200);
  assert.match(master.body.toString(), /720p\/index\.m3u8/);
  // the local copies are gone: nothing in the event points at them
  assert.doesNotMatch(JSON.stringify(d), /local:\/\//);
  assert.equal((await events('hls.recording.success', roomId)).length, 1, 'one event for the stream, not one per asset');
  assert.equal((await events('hls.failure', roomId)).length, 0);
});

test('a bucket that refuses the upload: hls.failure UPLOAD_ERROR once, the stream keeps its recordings here', async () => {
  const roomId = await room('live-badcreds', s3.upload(BUCKET, 'bad', 'not-the-secret'));
  const rec = await recordLiveStream(s, roomId);
  for (const id of [rec.fileAssetId, rec.vodAssetId]) {
    await waitFor(`asset ${id} given up`, async () => (await assetRow(s, id)).upload_state === 'failed', 90_000);
  }
  const failures = await waitFor('hls.failure', async () => {
    const list = await events('hls.failure', roomId);
    return list.length ? list : null;
  }, 10_000);
  assert.equal(failures.length, 1, 'announced once for the stream');
  const fd = failures[0].data as any;
  assert.equal(fd.error_type, 'UPLOAD_ERROR');
  assert.equal(fd.job_id, rec.streamId);
  assert.match(fd.error_message, /upload to the configured storage failed/);
  assert.doesNotMatch(fd.error_message, /not-the-secret/);
  const job = await s.api('GET', `/v2/live-streams/${rec.streamId}`);
  assert.equal(job.body.status, 'completed');
  assert.equal(job.body.error_type, 'UPLOAD_ERROR');
  // announced after the first failed attempt with this server's copies, which download
  const ok = await events('hls.recording.success', roomId);
  assert.equal(ok.length, 1);
  const f = (ok[0].data as any).recording_single_files[0];
  assert.match(f.recording_path, /^local:\/\//);
  const dl = await download(f.recording_presigned_url);
  assert.equal(dl.status, 200);
  assert.equal(sha256(dl.body), rec.fileSha256);
});

test('beam.recording.success: the presigned URL lives the recording config presignDuration', async () => {
  const roomId = await room('rec-presign', s3.upload(BUCKET, 'tenant-p'), { recording: 3600 });
  const rec = await recordAsset(s, roomId, 4096);
  const ev = await waitFor('beam.recording.success', async () => (await events('beam.recording.success', roomId))[0], 90_000);
  const u = new URL(String((ev.data as any).recording_presigned_url));
  assert.equal(u.origin, s3.endpoint);
  assert.equal(u.searchParams.get('X-Amz-Expires'), '3600');
  assert.equal(sha256((await download(u.toString())).body), rec.sha256);
});
