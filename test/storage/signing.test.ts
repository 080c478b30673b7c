// Google Cloud Storage (XML API, HMAC keys) and Alibaba OSS through their S3-compatible interfaces: no network.
// The requests and presigned URLs the store makes are checked against the documented formats — host and
// addressing, credential scope, X-Amz-* query, default expiry (3 days GCS, 9 h OSS) — and every signature is
// recomputed here with an independent implementation of the V4 signing process (AWS SigV4 = GCS V4 with HMAC).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, createHmac } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { S3Client } from '@aws-sdk/client-s3';
import { S3AssetStore, s3ClientConfig } from '../../src/storage/s3.js';
import { defaultPresignSeconds, storeFor, StoreConfigError, type UploadTarget } from '../../src/storage/index.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { objectId, rfc3339 } from '../../src/clock.js';
import { toJson } from '../../src/store/db.js';

const KEY_ID = 'GOOG1EXAMPLEKEYID';
const SECRET = 'bGoa+V7g/yqDXvKRqq+JTFn4uQZbPiQJo4pf9RzJ';
const gcs: UploadTarget = { type: 'gs', location: 'my-gcs-bucket', prefix: 'tenant', key: KEY_ID, secret: SECRET };
const oss: UploadTarget = { type: 'oss', location: 'my-oss-bucket', prefix: 'tenant', region: 'oss-cn-hangzhou', key: 'LTAI5tEXAMPLE', secret: SECRET };
const KEY = 'tenant/beam/6740aaaaaaaaaaaaaaaaaaaa/20260102/Rec-6740aaaaaaaaaaaaaaaaaaaa-1767312000000.mp4';

// ---- an independent V4 signer (canonical request → string to sign → derived key) ----
const hex = (b: string | Buffer) => createHash('sha256').update(b).digest('hex');
const hmac = (k: string | Buffer, d: string) => createHmac('sha256', k).update(d).digest();
const rfc3986 = (s: string) => encodeURIComponent(s).replace(/[!'()*]/g, (c) => '%' + c.charCodeAt(0).toString(16).toUpperCase());

function canonicalQuery(pairs: Array<[string, string]>): string {
  return pairs
    .map(([k, v]) => [rfc3986(k), rfc3986(v)] as const)
    .sort((a, b) => (a[0] === b[0] ? (a[1] < b[1] ? -1 : 1) : a[0] < b[0] ? -1 : 1))
    .map(([k, v]) => `${k}=${v}`)
    .join('&');
}

function signature(secret: string, amzDate: string, scope: string, canonicalRequest: string): string {
  const [date, region, service] = scope.split('/');
  const stringToSign = ['AWS4-HMAC-SHA256', amzDate, scope, hex(canonicalRequest)].join('\n');
  const k = hmac(hmac(hmac(hmac(`AWS4${secret}`, date), region), service), 'aws4_request');
  return createHmac('sha256', k).update(stringToSign).digest('hex');
}

function checkPresigned(url: string, secret: string): void {
  const u = new URL(url);
  const q = [...u.searchParams.entries()].filter(([k]) => k !== 'X-Amz-Signature');
  assert.equal(u.searchParams.get('X-Amz-SignedHeaders'), 'host');
  const canonical = ['GET', u.pathname, canonicalQuery(q), `host:${u.host}\n`, 'host', 'UNSIGNED-PAYLOAD'].join('\n');
  const scope = u.searchParams.get('X-Amz-Credential')!.split('/').slice(1).join('/');
  assert.equal(signature(secret, u.searchParams.get('X-Amz-Date')!, scope, canonical), u.searchParams.get('X-Amz-Signature'), 'presigned URL signature');
}

interface Captured {
  method: string;
  protocol: string;
  hostname: string;
  port?: number;
  path: string;
  query: Record<string, string | string[] | null>;
  headers: Record<string, string>;
  body: unknown;
}

/** An S3 client for a target whose HTTP layer records requests and answers like a store would. */
function capturingStore(t: UploadTarget, size: number): { store: S3AssetStore; requests: Captured[] } {
  const requests: Captured[] = [];
  const requestHandler = {
    async handle(req: Captured) {
      requests.push(req);
      return { response: { statusCode: 200, headers: { etag: '"0123"', 'content-length': String(req.method === 'HEAD' ? size : 0) }, body: Readable.from([]) } };
    },
    updateHttpClientConfig() {},
    httpHandlerConfigs() {
      return {};
    },
    destroy() {},
  };
  const client = new S3Client({ ...s3ClientConfig(t), requestHandler: requestHandler as never });
  return { store: new S3AssetStore(t, client), requests };
}

function checkSignedRequest(r: Captured, secret: string, body: Buffer): { scope: string } {
  const auth = r.headers.authorization;
  const m = /^AWS4-HMAC-SHA256 Credential=([^/]+)\/([^,]+), SignedHeaders=([^,]+), Signature=([0-9a-f]{64})$/.exec(auth);
  assert.ok(m, auth);
  const [, , scope, signedHeaders, sig] = m;
  const lower = Object.fromEntries(Object.entries(r.headers).map(([k, v]) => [k.toLowerCase(), String(v).trim()]));
  assert.equal(lower['x-amz-content-sha256'], hex(body), 'the payload hash is signed (no chunked encoding)');
  const host = r.port ? `${r.hostname}:${r.port}` : r.hostname;
  const headerLines = signedHeaders
    .split(';')
    .map((h) => `${h}:${h === 'host' ? lower.host ?? host : lower[h]}\n`)
    .join('');
  const q: Array<[string, string]> = Object.entries(r.query ?? {}).flatMap(([k, v]) => (Array.isArray(v) ? v.map((x) => [k, x] as [string, string]) : [[k, v ?? ''] as [string, string]]));
  const canonical = [r.method, r.path, canonicalQuery(q), headerLines, signedHeaders, lower['x-amz-content-sha256']].join('\n');
  assert.equal(signature(secret, lower['x-amz-date'], scope, canonical), sig, 'request signature');
  return { scope };
}

const body = Buffer.from('a small recording');
const file = join(mkdtempSync(join(tmpdir(), 'sign-')), 'f.mp4');
writeFileSync(file, body);

test('GCS: path-style requests to storage.googleapis.com, region "auto", signed with the HMAC key', async () => {
  const { store, requests } = capturingStore(gcs, body.length);
  await store.upload(KEY, file);
  const put = requests.find((r) => r.method === 'PUT')!;
  assert.equal(put.protocol, 'https:');
  assert.equal(put.hostname, 'storage.googleapis.com');
  assert.equal(put.path, `/my-gcs-bucket/${KEY}`);
  assert.equal(put.headers['content-type'], 'video/mp4');
  assert.ok(!Object.keys(put.headers).some((h) => h.toLowerCase().startsWith('x-amz-checksum')), 'no SDK checksum headers (GCS refuses them)');
  const { scope } = checkSignedRequest(put, SECRET, body);
  assert.match(scope, /^\d{8}\/auto\/s3\/aws4_request$/);
  assert.ok(put.headers.authorization.includes(`Credential=${KEY_ID}/`));
  // the upload is confirmed by a HEAD of the object
  assert.ok(requests.some((r) => r.method === 'HEAD' && r.path === `/my-gcs-bucket/${KEY}`));
  assert.equal(store.pathOf(KEY), `gs://my-gcs-bucket/${KEY}`);
});

test('GCS presigned URL: host, path, X-Amz-* query, 3-day default expiry, signature', async () => {
  const store = storeFor(gcs);
  const { url, expiry } = await store.presign(KEY, defaultPresignSeconds('gs'));
  assert.equal(expiry, 259200);
  const u = new URL(url);
  assert.equal(u.origin, 'https://storage.googleapis.com');
  assert.equal(u.pathname, `/my-gcs-bucket/${KEY}`);
  assert.equal(u.searchParams.get('X-Amz-Algorithm'), 'AWS4-HMAC-SHA256');
  assert.match(u.searchParams.get('X-Amz-Credential')!, new RegExp(`^${KEY_ID}/\\d{8}/auto/s3/aws4_request$`));
  assert.match(u.searchParams.get('X-Amz-Date')!, /^\d{8}T\d{6}Z$/);
  assert.equal(u.searchParams.get('X-Amz-Expires'), '259200');
  checkPresigned(url, SECRET);
  store.close();
});

test('OSS: virtual-hosted <bucket>.oss-<region>.aliyuncs.com, SigV4 region = region id, signed', async () => {
  const { store, requests } = capturingStore(oss, body.length);
  await store.upload(KEY, file);
  const put = requests.find((r) => r.method === 'PUT')!;
  assert.equal(put.protocol, 'https:');
  assert.equal(put.hostname, 'my-oss-bucket.oss-cn-hangzhou.aliyuncs.com');
  assert.equal(put.path, `/${KEY}`);
  assert.ok(!Object.values(put.headers).some((v) => String(v).includes('aws-chunked')), 'OSS does not take chunked uploads');
  const { scope } = checkSignedRequest(put, SECRET, body);
  assert.match(scope, /^\d{8}\/cn-hangzhou\/s3\/aws4_request$/);
  assert.equal(store.pathOf(KEY), `oss://my-oss-bucket/${KEY}`);
});

test('OSS presigned URL: 9-hour default expiry, virtual-hosted, signature', async () => {
  const store = storeFor(oss);
  const { url, expiry } = await store.presign(KEY, defaultPresignSeconds('oss'));
  assert.equal(expiry, 32400);
  const u = new URL(url);
  assert.equal(u.origin, 'https://my-oss-bucket.oss-cn-hangzhou.aliyuncs.com');
  assert.equal(u.pathname, `/${KEY}`);
  assert.equal(u.searchParams.get('X-Amz-Expires'), '32400');
  assert.match(u.searchParams.get('X-Amz-Credential')!, /^LTAI5tEXAMPLE\/\d{8}\/cn-hangzhou\/s3\/aws4_request$/);
  checkPresigned(url, SECRET);
  // presigned URLs are capped at the V4 maximum of 7 days
  assert.equal((await store.presign(KEY, 30 * 86400)).expiry, 7 * 86400);
  store.close();
});

test('configuration errors are caught before any request', () => {
  assert.throws(() => storeFor({ ...oss, region: undefined }), StoreConfigError);
  assert.throws(() => storeFor({ ...gcs, key: undefined, secret: undefined }), StoreConfigError);
  assert.throws(() => storeFor({ ...gcs, secret: undefined }), StoreConfigError);
  assert.throws(() => storeFor({ ...gcs, location: '' }), StoreConfigError);
  assert.throws(() => storeFor({ type: 'azure', location: 'c', prefix: 'p' }), StoreConfigError);
});

describeApi();
function describeApi() {
  let s: TestServer;
  before(async () => {
    s = await startTestServer({ RECORDER_WORKERS: '0' });
  });
  after(() => s.stop());

  test('presigned-url API: an OSS asset gets a 9 h URL from OSS, a GCS one 3 days, presign_duration honoured', async () => {
    const room = (await s.api('POST', '/v2/rooms', { name: 'sign-api' })).body.id;
    for (const [target, seconds] of [
      [oss, 32400],
      [gcs, 259200],
    ] as const) {
      const id = objectId();
      await s.services.store.db
        .insertInto('assets')
        .values({
          id,
          job_id: objectId(),
          room_id: room,
          session_id: '',
          type: 'room-composite',
          status: 'completed',
          path: `${target.type}://${target.location}/${KEY}`,
          storage: target.type,
          storage_key: KEY,
          size: 10,
          duration: 1,
          metadata: '{}',
          thumbnails: null,
          error_message: null,
          created_at: rfc3339(),
          deleted_at: null,
          upload_state: 'done',
          upload_target: toJson(target),
        })
        .execute();
      const res = await s.api('GET', `/v2/recording-assets/${id}/presigned-url`);
      assert.equal(res.status, 200, JSON.stringify(res.body));
      assert.equal(res.body.expiry, seconds);
      assert.equal(res.body.path, `${target.type}://${target.location}/${KEY}`);
      assert.equal(new URL(res.body.url).searchParams.get('X-Amz-Expires'), String(seconds));
      checkPresigned(res.body.url, SECRET);
      const custom = await s.api('GET', `/v2/recording-assets/${id}/presigned-url?presign_duration=3600`);
      assert.equal(custom.body.expiry, 3600);
      assert.equal(new URL(custom.body.url).searchParams.get('X-Amz-Expires'), '3600');
    }
  });
}
