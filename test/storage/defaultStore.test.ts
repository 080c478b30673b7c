// The server's own store (STORAGE_URL + STORAGE_*, a fleet's shared bucket) on the real S3 test server: a room
// with no store of its own records into it (its loopback endpoint allowed: the operator's, not a user's), its
// presigned URLs come from it; a room's template store still wins; malformed settings stop the server at start.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { GetObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { S3TestServer, S3_KEY, S3_REGION, S3_SECRET } from '../helpers/s3TestServer.js';
import { assetRow, download, recordAsset, roomWithStorage, sha256 } from '../helpers/recordedAsset.js';
import { waitFor } from '../helpers/webhookReceiver.js';
import { storageUrlTarget } from '../../src/storage/storageUrl.js';
import { loadConfig } from '../../src/config.js';

const SHARED = 'fleet-shared';
const OWN = 'tenant-own';
const s3 = new S3TestServer();
let s: TestServer;
let client: S3Client;

before(async () => {
  await s3.start();
  await s3.createBucket(SHARED);
  await s3.createBucket(OWN);
  client = s3.client();
  // no STORAGE_ALLOW_PRIVATE: the loopback endpoint passes because the operator configured it
  s = await startTestServer(sharedStoreEnv());
});

function sharedStoreEnv(): Record<string, string> {
  return {
    RECORDER_WORKERS: '0',
    STORAGE_URL: `s3://${SHARED}/recordings/`,
    STORAGE_ENDPOINT: s3.endpoint,
    STORAGE_REGION: S3_REGION,
    STORAGE_ACCESS_KEY_ID: S3_KEY,
    STORAGE_SECRET_ACCESS_KEY: S3_SECRET,
  };
}

after(async () => {
  await s?.stop();
  client?.destroy();
  s3.destroy();
});

async function uploaded(id: string) {
  return waitFor(`asset ${id} uploaded`, async () => {
    const a = await assetRow(s, id);
    return a.upload_state === 'done' || a.upload_state === 'failed' ? a : null;
  }, 90_000);
}

test('a room without a store of its own records into STORAGE_URL; presigned URLs come from that store', async () => {
  const room = await roomWithStorage(s, 'shared-store', null);
  const rec = await recordAsset(s, room, 200_000);
  const a = await uploaded(rec.assetId);
  assert.equal(a.upload_state, 'done', String(a.upload_error));
  const rest = rec.localKey.slice(rec.localKey.indexOf('/') + 1);
  assert.equal(a.storage, 's3');
  assert.equal(a.storage_key, `recordings/${rest}`);
  assert.equal(a.path, `s3://${SHARED}/recordings/${rest}`);
  const obj = await client.send(new GetObjectCommand({ Bucket: SHARED, Key: a.storage_key }));
  assert.equal(sha256(Buffer.from(await obj.Body!.transformToByteArray())), rec.sha256);
  assert.equal(s.services.localStorage.exists(rec.localKey), false, 'the local copy goes once the store has it');

  const pre = await s.api('GET', `/v2/recording-assets/${rec.assetId}/presigned-url`);
  assert.equal(pre.status, 200, JSON.stringify(pre.body));
  assert.equal(new URL(pre.body.url).origin, s3.endpoint);
  const dl = await download(pre.body.url);
  assert.equal(dl.status, 200);
  assert.equal(sha256(dl.body), rec.sha256);
  const [ev] = await s.services.events.list({ type: 'beam.recording.success', roomId: room });
  assert.equal(ev.data.recording_path, a.path);
  assert.ok(!JSON.stringify(ev.data).includes(S3_SECRET), 'no secret in the event');
});

test("a room's template store still wins over STORAGE_URL", async () => {
  // a user's store on loopback needs STORAGE_ALLOW_PRIVATE: a second server with it, the same STORAGE_URL
  const s2 = await startTestServer({ ...sharedStoreEnv(), STORAGE_ALLOW_PRIVATE: 'true' });
  try {
    const room = await roomWithStorage(s2, 'own-store', s3.upload(OWN, 'mine'));
    const rec = await recordAsset(s2, room, 10_000);
    const a = await waitFor('the upload', async () => {
      const row = await assetRow(s2, rec.assetId);
      return row.upload_state === 'done' ? row : null;
    }, 90_000);
    assert.ok(a.path?.startsWith(`s3://${OWN}/mine/`), a.path ?? '');
    const obj = await client.send(new GetObjectCommand({ Bucket: OWN, Key: a.storage_key }));
    assert.equal(sha256(Buffer.from(await obj.Body!.transformToByteArray())), rec.sha256);
  } finally {
    await s2.stop();
  }
});

test('STORAGE_URL settings: parsed into a store target; malformed ones refused with a clear message', () => {
  assert.equal(storageUrlTarget({}), null);
  assert.deepEqual(storageUrlTarget({ url: 'gs://media/a/b/', region: 'auto' }), { type: 'gs', location: 'media', prefix: 'a/b', region: 'auto', endpoint: undefined, key: undefined, secret: undefined, operator: true });
  assert.equal(storageUrlTarget({ url: 's3://bucket' })?.prefix, '');
  const bad: Array<[Record<string, string>, RegExp]> = [
    [{ url: 'ftp://bucket/x' }, /scheme must be one of s3, gs, oss, azure/],
    [{ url: 's3://' }, /must look like s3:\/\/bucket\/prefix/],
    [{ url: 'bucket/prefix' }, /must look like/],
    [{ url: 's3://b', accessKeyId: 'k' }, /go together/],
    [{ url: 'azure://c' }, /needs STORAGE_ACCESS_KEY_ID/],
    [{ url: 's3://b', endpoint: 'minio:9000' }, /STORAGE_ENDPOINT must be an http\(s\) URL/],
  ];
  for (const [settings, message] of bad) assert.throws(() => storageUrlTarget(settings), message, JSON.stringify(settings));
  // the server refuses to start with one, and the message never carries the secret
  const env = { DATA_DIR: s.services.config.dataDir, STORAGE_URL: 'ftp://x', STORAGE_SECRET_ACCESS_KEY: 'hunter2-secret', STORAGE_ACCESS_KEY_ID: 'k' };
  assert.throws(() => loadConfig(env), (err: Error) => /STORAGE_URL scheme/.test(err.message) && !err.message.includes('hunter2'));
});
