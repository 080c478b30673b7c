// Secrets at rest: DATA_DIR is created 0700; credentials.json, DATA_DIR/config.json and the SQLite database
// with its -wal and -shm files are this user's only (0600), also when an older start left them readable.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, existsSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../../src/config.js';
import { openStore } from '../../src/store/db.js';

const mode = (p: string) => statSync(p).mode & 0o777;

test('DATA_DIR 0700, credentials.json and the SQLite files (db, -wal, -shm) 0600', async () => {
  const parent = mkdtempSync(join(tmpdir(), 'roomcast-modes-'));
  const dataDir = join(parent, 'data');
  const oldMask = process.umask(0o022); // the usual umask: files would be 0644 without care
  try {
    const cfg = loadConfig({ DATA_DIR: dataDir });
    assert.equal(mode(dataDir), 0o700);
    assert.equal(mode(join(dataDir, 'credentials.json')), 0o600);
    const store = await openStore(null, cfg.dataDir);
    try {
      // a write so the WAL and shared-memory files exist
      await store.db.selectFrom('templates').select('id').limit(1).execute();
      const db = join(dataDir, 'roomcast.db');
      for (const f of [db, `${db}-wal`, `${db}-shm`]) {
        assert.ok(existsSync(f), f);
        assert.equal(mode(f), 0o600, f);
      }
    } finally {
      await store.close();
    }
  } finally {
    process.umask(oldMask);
    rmSync(parent, { recursive: true, force: true });
  }
});

test('files an older version left readable are restricted at the next start', async () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'roomcast-modes-'));
  try {
    const creds = join(dataDir, 'credentials.json');
    writeFileSync(creds, JSON.stringify({ access_key: 'ak', app_secret: 's'.repeat(40) }), { mode: 0o644 });
    writeFileSync(join(dataDir, 'config.json'), JSON.stringify({ LOG_LEVEL: 'warn' }), { mode: 0o644 });
    chmodSync(creds, 0o644);
    chmodSync(join(dataDir, 'config.json'), 0o644);
    const cfg = loadConfig({ DATA_DIR: dataDir });
    assert.equal(cfg.logLevel, 'warn');
    assert.equal(mode(creds), 0o600);
    assert.equal(mode(join(dataDir, 'config.json')), 0o600);
    const db = join(dataDir, 'roomcast.db');
    writeFileSync(db, '', { mode: 0o644 });
    chmodSync(db, 0o644);
    const store = await openStore(null, dataDir);
    await store.close();
    assert.equal(mode(db), 0o600);
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
});
