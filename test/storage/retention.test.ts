// Local retention: assets kept on this server are deleted RETENTION_DAYS (15) after they were made, the row kept
// with deleted_at; assets whose upload is pending or failed are never swept (their local copy is the only one).
// The sweep runs at start (proved by a restart) and hourly.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { startTestServer } from '../helpers/server.js';
import { assetRow, recordAsset, roomWithStorage } from '../helpers/recordedAsset.js';
import { waitFor } from '../helpers/webhookReceiver.js';
import { sweepLocalAssets } from '../../src/storage/retention.js';
import { objectId } from '../../src/clock.js';

const daysAgo = (d: number) => new Date(Date.now() - d * 86400_000).toISOString();

test('assets older than RETENTION_DAYS are deleted from disk and marked; fresh and not-yet-uploaded ones stay', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'roomcast-retention-'));
  let s = await startTestServer({ RECORDER_WORKERS: '0', STORAGE_ALLOW_PRIVATE: 'true' }, dir);
  try {
    assert.equal(s.config.retentionDays, 15);
    const local = await roomWithStorage(s, 'ret-local', null);
    // a store nobody listens on: the upload stays pending/failed, the local copy must survive the sweep
    const unreachable = await roomWithStorage(s, 'ret-unreachable', {
      type: 's3',
      location: 'bucket',
      options: { region: 'us-east-1', endpoint: 'http://127.0.0.1:1' },
      credentials: { key: 'k', secretKey: 's' },
    });
    const old = await recordAsset(s, local, 1000, { createdAt: daysAgo(16) });
    const fresh = await recordAsset(s, local, 1000, { createdAt: daysAgo(14) });
    const waiting = await recordAsset(s, unreachable, 1000, { createdAt: daysAgo(16) });
    await waitFor('the unreachable upload to have been tried', async () => ((await assetRow(s, waiting.assetId)).upload_attempts ?? 0) >= 1);

    // an HLS VOD asset: a master playlist and a directory of layer playlists and segments
    const vodDir = `${s.services.customerId}/hls/${local}/20260101/1767225600000/vod`;
    for (const f of ['master.m3u8', '1080p/index.m3u8', '1080p/seg0.ts']) {
      const file = s.services.localStorage.fileOf(`${vodDir}/${f}`);
      mkdirSync(dirname(file), { recursive: true });
      writeFileSync(file, 'x');
    }
    const vodId = objectId();
    await s.services.store.db
      .insertInto('assets')
      .values({ id: vodId, job_id: objectId(), room_id: local, session_id: '', type: 'room-vod', status: 'completed', path: `local://roomcast/${vodDir}/master.m3u8`, storage: 'local', storage_key: `${vodDir}/master.m3u8`, size: 3, duration: 1, metadata: '{}', thumbnails: null, error_message: null, created_at: daysAgo(20), deleted_at: null })
      .execute();

    const res = await sweepLocalAssets(s.services);
    assert.equal(res.expired, 2);
    assert.equal(existsSync(s.services.localStorage.fileOf(vodDir)), false, 'the whole VOD directory is removed');
    assert.ok((await assetRow(s, vodId)).deleted_at);
    const gone = await assetRow(s, old.assetId);
    assert.ok(gone.deleted_at);
    assert.equal(s.services.localStorage.exists(old.localKey), false);
    const pre = await s.api('GET', `/v2/recording-assets/${old.assetId}/presigned-url`);
    assert.equal(pre.status, 404);
    assert.equal(pre.body.message, 'Asset expired');
    assert.equal((await s.api('GET', `/v2/recording-assets/${old.assetId}`)).status, 200, 'the row is kept');

    assert.equal((await assetRow(s, fresh.assetId)).deleted_at, null);
    assert.ok(s.services.localStorage.exists(fresh.localKey));
    const w = await assetRow(s, waiting.assetId);
    assert.ok(w.upload_state === 'pending' || w.upload_state === 'failed', String(w.upload_state));
    assert.equal(w.deleted_at, null);
    assert.ok(s.services.localStorage.exists(waiting.localKey), 'an asset not yet in its store is never swept');

    // the sweep also runs at start: an expired asset is gone right after a restart
    const older = await recordAsset(s, local, 1000, { createdAt: daysAgo(30) });
    await s.stop();
    s = await startTestServer({ RECORDER_WORKERS: '0', STORAGE_ALLOW_PRIVATE: 'true' }, dir);
    await waitFor('the sweep at start', async () => (await assetRow(s, older.assetId)).deleted_at !== null, 10_000);
    assert.equal(s.services.localStorage.exists(older.localKey), false);
    assert.ok(s.services.localStorage.exists(fresh.localKey));
  } finally {
    await s.stop();
    rmSync(dir, { recursive: true, force: true });
  }
});
