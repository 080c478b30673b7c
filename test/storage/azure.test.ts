// Azure Blob through its SDK against Azurite (Microsoft's emulator, npm): block upload, SAS presigned URLs
// (good, tampered, expired), and a missing container classified as a configuration error.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { BlobServiceClient, StorageSharedKeyCredential } from '@azure/storage-blob';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { assetRow, download, recordAsset, roomWithStorage, sha256 } from '../helpers/recordedAsset.js';
import { waitFor } from '../helpers/webhookReceiver.js';
import { AzureAssetStore } from '../../src/storage/azure.js';
import { isConfigError } from '../../src/storage/index.js';
import { liveRoundTrip, partsRoundTrip } from '../helpers/partsRoundTrip.js';
import { within } from '../helpers/meetingPeers.js';

// Azurite's well-known development account
const ACCOUNT = 'devstoreaccount1';
const KEY = 'Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==';
const CONTAINER = 'recordings';
const AZURITE = fileURLToPath(new URL('../../../node_modules/.bin/azurite-blob', import.meta.url));
const MiB = 1024 * 1024;

let azurite: ChildProcess;
let endpoint = '';
const dir = mkdtempSync(join(tmpdir(), 'azurite-'));
let s: TestServer;

async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const srv = createServer();
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as AddressInfo;
      srv.close(() => resolve(port));
    });
  });
}

function service(): BlobServiceClient {
  return new BlobServiceClient(endpoint, new StorageSharedKeyCredential(ACCOUNT, KEY));
}

const upload = (location = CONTAINER) => ({ type: 'azure', location, prefix: 'az', options: { endpoint }, credentials: { key: ACCOUNT, secretKey: KEY } });

before(async () => {
  const port = await freePort();
  endpoint = `http://127.0.0.1:${port}/${ACCOUNT}`;
  azurite = spawn(process.execPath, [AZURITE, '--blobHost', '127.0.0.1', '--blobPort', String(port), '--location', dir, '--silent', '--skipApiVersionCheck', '--loose', '--disableTelemetry'], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  azurite.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  azurite.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  await waitFor('azurite to listen', () => out.includes('successfully listens'), 60_000, 100);
  await service().getContainerClient(CONTAINER).createIfNotExists();
  s = await startTestServer({ RECORDER_WORKERS: '0', STORAGE_ALLOW_PRIVATE: 'true' });
});
after(async () => {
  await s?.stop();
  if (azurite && azurite.exitCode === null) {
    const exited = new Promise((r) => azurite.once('exit', r));
    azurite.kill('SIGTERM');
    await within(exited, 5000);
    if (azurite.exitCode === null) azurite.kill('SIGKILL');
  }
  rmSync(dir, { recursive: true, force: true });
});

test('a 20 MiB recording goes up as blocks; its SAS URL downloads it; tampered and expired SAS URLs are refused', async (t) => {
  const room = await roomWithStorage(s, 'az-a', upload());
  const rec = await recordAsset(s, room, 20 * MiB + 5);
  const a = await waitFor('uploaded', async () => {
    const row = await assetRow(s, rec.assetId);
    return row.upload_state === 'done' ? row : null;
  }, 90_000);
  const key = `az/${rec.localKey.split('/').slice(1).join('/')}`;
  assert.equal(a.storage, 'azure');
  assert.equal(a.storage_key, key);
  assert.equal(a.path, `azure://${CONTAINER}/${key}`);
  t.diagnostic(`uploaded in ${a.upload_attempts} attempt(s)`);
  const blob = service().getContainerClient(CONTAINER).getBlockBlobClient(key);
  const props = await blob.getProperties();
  assert.equal(props.contentLength, rec.bytes.length);
  assert.equal(props.contentType, 'video/mp4');
  const blocks = await blob.getBlockList('committed');
  assert.ok((blocks.committedBlocks ?? []).length >= 3, 'uploaded as 8 MiB blocks');
  assert.equal(sha256(await blob.downloadToBuffer()), rec.sha256);
  assert.equal(s.services.localStorage.exists(rec.localKey), false);

  const pre = await s.api('GET', `/v2/recording-assets/${rec.assetId}/presigned-url`);
  assert.equal(pre.status, 200, JSON.stringify(pre.body));
  assert.equal(pre.body.expiry, 3 * 86400);
  const u = new URL(pre.body.url);
  assert.equal(u.searchParams.get('sp'), 'r');
  assert.ok(u.searchParams.get('sig'));
  const dl = await download(pre.body.url);
  assert.equal(dl.status, 200);
  assert.equal(sha256(dl.body), rec.sha256);
  const bad = new URL(pre.body.url);
  bad.searchParams.set('sig', Buffer.alloc(32, 1).toString('base64'));
  assert.equal((await download(bad.toString())).status, 403);
  const expiring = await s.services.uploads.presign(a, 1);
  await new Promise((r) => setTimeout(r, 2500));
  assert.equal((await download(expiring.url)).status, 403);

  const [ev] = await s.services.events.list({ type: 'beam.recording.success', roomId: room });
  assert.equal(ev.data.recording_path, a.path);
  assert.equal(sha256((await download(String(ev.data.recording_presigned_url))).body), rec.sha256);
});

test('a missing container is a configuration error (UPLOAD_ERROR after retries), not a transient one', async () => {
  const store = new AzureAssetStore({ type: 'azure', location: 'no-such-container', prefix: 'p', endpoint, key: ACCOUNT, secret: KEY });
  const file = join(dir, 'small.bin');
  writeFileSync(file, 'x');
  const err = await store.upload('p/x.bin', file).then(
    () => null,
    (e: unknown) => e,
  );
  assert.ok(err, 'the upload must fail');
  assert.equal(isConfigError(err), true);
  const wrongKey = new AzureAssetStore({ type: 'azure', location: CONTAINER, prefix: 'p', endpoint, key: ACCOUNT, secret: Buffer.from('wrong').toString('base64') });
  const err2 = await wrongKey.upload('p/x.bin', file).then(
    () => null,
    (e: unknown) => e,
  );
  assert.equal(isConfigError(err2), true);
});

test('a recording streamed in parts while it records comes back whole from the container, and its parts go', async () => {
  await partsRoundTrip(new AzureAssetStore({ type: 'azure', location: CONTAINER, prefix: 'az', endpoint, key: ACCOUNT, secret: KEY }), 'az');
});

test('a fleet\'s live stream mirrored to the container: a node reads it back, a takeover restores it', async () => {
  await liveRoundTrip(new AzureAssetStore({ type: 'azure', location: CONTAINER, prefix: 'az', endpoint, key: ACCOUNT, secret: KEY }), 'az');
});
