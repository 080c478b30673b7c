// The data disk full, without a recorder (test/e2e/diskFull.test.ts records through it): DATA_DIR is a small
// tmpfs the test mounts (root). A start is refused with 503 and the reason, /healthz says degraded, the disk
// reserve is given back when the disk fills and made again once space is freed, and a SQLite write refused for
// space (SQLITE_FULL) is retried until the test frees space, then lands.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { closeSync, existsSync, mkdtempSync, openSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { until } from '../helpers/meetingPeers.js';
import { isDiskFull, RESERVE_FILE } from '../../src/storage/diskSpace.js';

let dir = '';
let mounted = false;
let s: TestServer | undefined;

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'roomcast-diskspace-'));
  const m = spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=24m,mode=0700', 'tmpfs', dir]);
  assert.equal(m.status, 0, `mount tmpfs (needs root): ${m.stderr?.toString()}`);
  mounted = true;
  // a start needs 4 MB + 10 s at the bitrate cap (~5 MB); the reserve is 2 MB
  s = await startTestServer({ DISK_MIN_FREE_MB: '4', DISK_RESERVE_MB: '2', DISK_START_MIN_SECONDS: '10' }, dir);
});

after(async () => {
  await s?.stop();
  if (mounted) spawnSync('umount', [dir]);
  rmSync(dir, { recursive: true, force: true });
});

/** Writes a file until the disk refuses another byte. */
function fillDisk(file: string): void {
  const fd = openSync(file, 'w');
  try {
    for (const chunk of [Buffer.alloc(1024 * 1024, 1), Buffer.alloc(4096, 1)]) {
      for (;;) {
        try {
          writeSync(fd, chunk);
        } catch (err) {
          if ((err as NodeJS.ErrnoException).code !== 'ENOSPC') throw err;
          break;
        }
      }
    }
  } finally {
    closeSync(fd);
  }
}

const health = async () => (await (await fetch(`${s!.url}/healthz`)).json()) as any;

test('a full data disk: start refused with 503 and why, /healthz degraded, SQLite writes retried until space is back', async () => {
  const roomId = (await s!.api('POST', '/v2/rooms', { name: 'disk-space' })).body.id;
  assert.ok(existsSync(join(dir, RESERVE_FILE)), 'the reserve is made at start');
  assert.equal((await health()).status, 'ok');

  const filler = join(dir, 'filler.bin');
  fillDisk(filler);
  // the reserve goes to whoever must still write (the database)
  await until('the reserve released', () => !existsSync(join(dir, RESERVE_FILE)), 10_000, 100);
  const h = await health();
  assert.equal(h.status, 'degraded', JSON.stringify(h));
  assert.match(h.problems[0], new RegExp(`the data disk \\(DATA_DIR ${dir}\\) has \\d+ MB free; a start needs \\d+ MB`));

  for (const path of [`/v2/recordings/room/${roomId}/start`, `/v2/live-streams/room/${roomId}/start`]) {
    const r = await s!.api('POST', path, {});
    assert.equal(r.status, 503, `${path}: ${JSON.stringify(r.body)}`);
    assert.deepEqual(Object.keys(r.body).sort(), ['code', 'details', 'message']);
    assert.equal(r.body.code, 503);
    assert.match(r.body.message, /^Not enough disk space to (record|stream)$/);
    assert.match(r.body.details[0], /DISK_START_MIN_SECONDS/);
  }
  assert.equal((await s!.services.recordings.startingOrRunning()).length, 0);

  // a write bigger than what the released reserve gave back fails for space, and is retried until it fits
  const big = () => s!.services.db.insertInto('webhook_state').values({ name: 'disk-full-probe', value: 'x'.repeat(3 * 1024 * 1024) }).execute();
  await assert.rejects(big(), (err) => isDiskFull(err), 'SQLite refuses the write for space');
  let landed = false;
  const retried = s!.services.disk.retryWhileFull('probe', big, () => false).then(() => (landed = true));
  await new Promise((r) => setTimeout(r, 1500));
  assert.equal(landed, false, 'not written while the disk is full');
  rmSync(filler);
  await retried;
  const row = await s!.services.db.selectFrom('webhook_state').select('value').where('name', '=', 'disk-full-probe').executeTakeFirst();
  assert.equal(row?.value.length, 3 * 1024 * 1024);

  // space is back: the reserve again, healthy, starts allowed
  await until('the reserve back', () => existsSync(join(dir, RESERVE_FILE)), 10_000, 100);
  assert.equal((await health()).status, 'ok');
  assert.equal((await s!.api('POST', `/v2/recordings/room/${roomId}/start`, {})).status, 200);
});
