// Issue 13, "disk fills mid-recording", with real peers: DATA_DIR (assets, work files and the SQLite database) is a
// small tmpfs the test mounts (root). Two peers are recorded; the asset row exists from the first frame (status
// `recording`); then a filler file takes every byte left. The encoder dies of ENOSPC, the disk reserve is given
// to the database, and the job ends `failed` / DISK_FULL (API and beam.failure) with a partial asset that plays
// to its end; no recorded file is without a row; stop never answers 500; /healthz is degraded and a start is
// refused with 503 while the disk is full. Once the filler is deleted, the reserve comes back and a new
// recording works.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { closeSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, openSync, readdirSync, rmSync, statSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import type { Page } from 'playwright-core';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { launchPeerBrowser, makeMediaFixtures, openPeerPage, until, waitJoined, sleep, type MediaFixtures, type PeerBrowser } from '../helpers/meetingPeers.js';
import { WebhookReceiver } from '../helpers/webhookReceiver.js';
import { frozenTailSeconds } from '../helpers/frozenTail.js';
import { liveProcesses } from '../../src/recorder/proc.js';
import { probe } from '../../src/recorder/probe.js';
import { RESERVE_FILE } from '../../src/storage/diskSpace.js';

const TMPFS_MB = 48;
const RECORD_SECONDS = 8;

let dir = '';
let mounted = false;
let s: TestServer | undefined;
let media: MediaFixtures;
let peers: PeerBrowser;
const hooks = new WebhookReceiver();

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'roomcast-diskfull-'));
  const m = spawnSync('mount', ['-t', 'tmpfs', '-o', `size=${TMPFS_MB}m,mode=0700`, 'tmpfs', dir]);
  assert.equal(m.status, 0, `mount tmpfs (needs root): ${m.stderr?.toString()}`);
  mounted = true;
  await hooks.listen();
  s = await startTestServer(
    {
      RECORDER_WORKERS: '1',
      RECORDER_JOIN_TIMEOUT_SECONDS: '15',
      WEBHOOK_URL: hooks.url('/hook'),
      WEBHOOK_ALLOW_PRIVATE: 'true',
      // a start needs 8 MB + 10 s at 4128 kbit/s (~5 MB); the reserve is 4 MB
      DISK_MIN_FREE_MB: '8',
      DISK_RESERVE_MB: '4',
      DISK_START_MIN_SECONDS: '10',
    },
    dir,
  );
  media = makeMediaFixtures();
  peers = await launchPeerBrowser(media);
});

after(async () => {
  await peers?.close();
  await s?.stop();
  await hooks.close();
  media?.remove();
  if (mounted) spawnSync('umount', [dir]);
  rmSync(dir, { recursive: true, force: true });
  const left = liveProcesses();
  assert.deepEqual(left, [], `recorder processes left behind: ${JSON.stringify(left)}`);
});

async function joinPeer(code: string, name: string): Promise<Page> {
  const page = await openPeerPage(peers, `${s!.url}/meeting/${code}?skip_preview_headful=true&name=${name}`);
  await waitJoined(page, 60_000);
  return page;
}

function ended(id: string): Promise<any> {
  return until('the recording to end', async () => {
    const r = (await s!.api('GET', `/v2/recordings/${id}`)).body;
    return r.status === 'failed' || r.status === 'completed' ? r : null;
  }, 120_000, 300);
}

async function startRunning(roomId: string): Promise<string> {
  // a small picture: less encoder load on a 2-core machine (the disk check counts the bitrate cap all the same)
  const start = await s!.api('POST', `/v2/recordings/room/${roomId}/start`, { resolution: { width: 640, height: 480 } });
  assert.equal(start.status, 200, JSON.stringify(start.body));
  await until('running', async () => (await s!.api('GET', `/v2/recordings/${start.body.id}`)).body.status === 'running', 90_000, 300);
  return start.body.id;
}

/** Writes a file until the disk refuses another byte; returns its size. */
function fillDisk(file: string): number {
  const fd = openSync(file, 'w');
  let written = 0;
  try {
    for (const chunk of [Buffer.alloc(1024 * 1024, 1), Buffer.alloc(4096, 1)]) {
      for (;;) {
        try {
          written += writeSync(fd, chunk);
        } catch (err) {
          if ((err as NodeJS.ErrnoException).code !== 'ENOSPC') throw err;
          break;
        }
      }
    }
  } finally {
    closeSync(fd);
  }
  return written;
}

/** Every file under DATA_DIR/<sub>, relative to it. */
function filesUnder(sub: string): string[] {
  const root = join(dir, sub);
  if (!existsSync(root)) return [];
  const out: string[] = [];
  const walk = (d: string) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      if (e.isDirectory()) walk(join(d, e.name));
      else out.push(relative(root, join(d, e.name)));
    }
  };
  walk(root);
  return out;
}

/** Recorded bytes without an asset row: files in the asset store no row names, and work dirs of closed jobs. */
async function orphans(): Promise<string[]> {
  const rows = await s!.services.db.selectFrom('assets').select(['storage_key', 'job_id', 'status']).execute();
  const keys = new Set(rows.map((r) => r.storage_key));
  const lost = filesUnder('assets').filter((f) => !keys.has(f));
  for (const f of filesUnder('work')) {
    const jobId = f.split('/')[0];
    const job = await s!.services.recordings.get(jobId);
    if (!job || job.status === 'completed' || job.status === 'failed') lost.push(`work/${f}`);
  }
  return lost;
}

const fileOf = (asset: any) => s!.services.localStorage.fileOf(asset.path.replace('local://roomcast/', ''));

test('the data disk fills mid-recording: failed/DISK_FULL with a partial asset that plays, nothing orphaned, starts refused until space is freed', async () => {
  assert.ok(existsSync(join(dir, RESERVE_FILE)), 'the disk reserve is made at start');
  const roomId = (await s!.api('POST', '/v2/rooms', { name: 'e2e-disk-full' })).body.id;
  const codes = Object.fromEntries((await s!.api('POST', `/v2/room-codes/room/${roomId}`)).body.data.map((c: any) => [c.role, c.code]));
  await joinPeer(codes.host, 'Alice');
  await joinPeer(codes.guest, 'Bob');
  const id = await startRunning(roomId);

  // the asset row is there from the first frame on, while the bytes are still being written
  const open = (await s!.api('GET', `/v2/recording-assets?job_id=${id}`)).body.data;
  assert.equal(open.length, 1, JSON.stringify(open));
  assert.equal(open[0].status, 'recording');
  await sleep(RECORD_SECONDS * 1000);

  const filler = join(dir, 'filler.bin');
  const filledAt = Date.now();
  const filled = fillDisk(filler);
  console.log(`# filler took ${(filled / 1048576).toFixed(1)} MB; the disk is full ${((filledAt - Date.parse((await s!.api('GET', `/v2/recordings/${id}`)).body.started_at)) / 1000).toFixed(1)} s into the recording`);
  // a stop on a full disk: done, refused as already over, or "try again" — never a 500
  const stop = await s!.api('POST', `/v2/recordings/${id}/stop`);
  assert.ok([200, 409, 503].includes(stop.status), `stop answered ${stop.status}: ${JSON.stringify(stop.body)}`);

  const done = await ended(id);
  console.log(`# disk full → job ${done.status} after ${Date.now() - filledAt} ms`);
  assert.equal(done.status, 'failed', JSON.stringify(done));
  assert.equal(done.error_type, 'DISK_FULL');
  assert.match(done.error_message, /disk is full/);
  assert.ok(done.error_message.includes(dir), `error_message names the data dir: ${done.error_message}`);
  assert.equal(done.stop_reason, 'failure: DISK_FULL');

  // the partial asset: the same row, finished, with everything captured; it plays to its end
  assert.equal(done.recording_assets.length, 1, JSON.stringify(done.recording_assets));
  const asset = done.recording_assets[0];
  assert.equal(asset.id, open[0].id, 'the row opened at the first frame is the asset');
  assert.equal(asset.metadata.partial, true);
  const file = fileOf(asset);
  const info = await probe(file);
  const recordedSeconds = (filledAt - Date.parse(done.started_at)) / 1000;
  // the partial recording, for people reading the test run (.test-artifacts is not committed)
  mkdirSync('.test-artifacts/disk-full', { recursive: true });
  copyFileSync(file, '.test-artifacts/disk-full/partial.mp4');
  const frozen = await frozenTailSeconds(file);
  console.log(`# partial asset ${info.duration.toFixed(2)} s (${recordedSeconds.toFixed(1)} s recorded before the disk filled), ${asset.size} bytes, frozen tail ${frozen.toFixed(2)} s`);
  assert.ok(info.duration > RECORD_SECONDS - 3, `duration ${info.duration} s`);
  assert.ok(info.duration <= recordedSeconds + 3, `duration ${info.duration} s vs ${recordedSeconds} s recorded before the fill`);
  assert.ok(Math.abs(asset.duration - info.duration) <= 1);
  assert.equal(asset.size, statSync(file).size);
  assert.ok(frozen <= 1, `frozen tail ${frozen} s`);

  // the failure event reached the webhook
  const failure = await until('beam.failure', () => hooks.accepted.find((h) => h.body?.type === 'beam.failure' && h.body?.data?.job_id === id), 30_000, 200);
  assert.equal(failure.body.data.error_type, 'DISK_FULL');
  assert.match(failure.body.data.error_message, /disk is full/);

  assert.deepEqual(await orphans(), [], 'every recorded file has an asset row');

  // while the disk is full: /healthz says so, and a start is refused with the reason
  const health = await fetch(`${s!.url}/healthz`);
  const healthBody = (await health.json()) as any;
  assert.equal(healthBody.status, 'degraded', JSON.stringify(healthBody));
  assert.match(healthBody.problems[0], /data disk/);
  const refused = await s!.api('POST', `/v2/recordings/room/${roomId}/start`, {});
  assert.equal(refused.status, 503, JSON.stringify(refused.body));
  assert.equal(refused.body.code, 503);
  assert.match(refused.body.message, /disk space/);
  assert.match(refused.body.details[0], /DATA_DIR .* MB free; a start needs/);
  assert.equal((await s!.services.recordings.startingOrRunning()).length, 0, 'the refused start left no job');

  // space is back: the reserve is made again, /healthz is ok, and a new recording works
  rmSync(filler);
  await until('the disk reserve back', () => existsSync(join(dir, RESERVE_FILE)), 10_000, 200);
  assert.equal(((await (await fetch(`${s!.url}/healthz`)).json()) as any).status, 'ok');
  const again = await startRunning(roomId);
  await sleep(4000);
  assert.equal((await s!.api('POST', `/v2/recordings/${again}/stop`)).status, 200);
  const second = await ended(again);
  assert.equal(second.status, 'completed', JSON.stringify(second));
  assert.equal(second.recording_assets[0].status, 'completed');
  assert.ok((await probe(fileOf(second.recording_assets[0]))).duration > 2);
  assert.deepEqual(await orphans(), []);
});
