// The roomcast CLI: tokens it prints are signed with the configured secret and carry the reference's claims.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decodeJwt } from 'jose';
import { verifyToken } from '../../src/auth/tokens.js';

const cli = join(process.cwd(), 'dist', 'src', 'cli.js');

test('token management / token app print verifiable tokens; credentials are generated once and kept', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'roomcast-cli-'));
  const env: NodeJS.ProcessEnv = { ...process.env, DATA_DIR: dir };
  delete env.ACCESS_KEY;
  delete env.APP_SECRET;
  const run = (...args: string[]) => execFileSync(process.execPath, [cli, ...args], { env, encoding: 'utf8' }).trim();
  try {
    const mgmt = run('token', 'management');
    const creds = JSON.parse(readFileSync(join(dir, 'credentials.json'), 'utf8'));
    const keys = { accessKey: creds.access_key, appSecret: creds.app_secret };
    const claims = decodeJwt(mgmt);
    assert.equal(claims.type, 'management');
    assert.equal(claims.version, 2);
    assert.equal(claims.access_key, creds.access_key);
    assert.ok(claims.jti && claims.iat && claims.nbf && claims.exp);
    assert.equal((await verifyToken(keys, mgmt)).type, 'management');

    const app = await verifyToken(keys, run('token', 'app', '--room', 'r1', '--role', 'host', '--user', 'u1'));
    assert.deepEqual([app.type, app.room_id, app.role, app.user_id], ['app', 'r1', 'host', 'u1']);
    // the same credentials on the next run
    assert.equal((await verifyToken(keys, run('token', 'management'))).type, 'management');
    const bad = spawnSync(process.execPath, [cli, 'token', 'app', '--room', 'r1'], { env, encoding: 'utf8' });
    assert.equal(bad.status, 2);
    assert.match(bad.stderr, /--role/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('credentials prints ACCESS_KEY and APP_SECRET (generated ones, or the configured ones)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'roomcast-cli-'));
  const env: NodeJS.ProcessEnv = { ...process.env, DATA_DIR: dir };
  delete env.ACCESS_KEY;
  delete env.APP_SECRET;
  try {
    const printed = execFileSync(process.execPath, [cli, 'credentials'], { env, encoding: 'utf8' });
    const creds = JSON.parse(readFileSync(join(dir, 'credentials.json'), 'utf8'));
    assert.equal(printed, `ACCESS_KEY=${creds.access_key}\nAPP_SECRET=${creds.app_secret}\n`);
    assert.ok(Buffer.byteLength(creds.app_secret) >= 32);
    const secret = 'configured-secret-0123456789abcdef-xyz';
    const configured = execFileSync(process.execPath, [cli, 'credentials'], { env: { ...env, ACCESS_KEY: 'ak', APP_SECRET: secret }, encoding: 'utf8' });
    assert.equal(configured, `ACCESS_KEY=ak\nAPP_SECRET=${secret}\n`);
    assert.match(execFileSync(process.execPath, [cli, '--help'], { env, encoding: 'utf8' }), /roomcast credentials/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('an APP_SECRET shorter than 32 bytes is refused at start with a clear message (environment or config file)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'roomcast-cli-'));
  const env: NodeJS.ProcessEnv = { ...process.env, DATA_DIR: dir, PORT: '0', ACCESS_KEY: 'ak', APP_SECRET: 'short-secret' };
  try {
    for (const args of [['start'], ['token', 'management']]) {
      const r = spawnSync(process.execPath, [cli, ...args], { env, encoding: 'utf8', timeout: 30_000 });
      assert.equal(r.status, 1, args.join(' '));
      assert.match(r.stderr, /APP_SECRET is 12 bytes long; it must be at least 32 bytes/);
      assert.equal(r.stdout.includes('short-secret') || r.stderr.includes('short-secret'), false, 'the secret itself is not echoed');
    }
    delete env.APP_SECRET;
    writeFileSync(join(dir, 'config.json'), JSON.stringify({ APP_SECRET: 'x'.repeat(31) }));
    const r = spawnSync(process.execPath, [cli, 'token', 'management'], { env, encoding: 'utf8', timeout: 30_000 });
    assert.equal(r.status, 1);
    assert.match(r.stderr, /APP_SECRET is 31 bytes long/);
    writeFileSync(join(dir, 'config.json'), JSON.stringify({ APP_SECRET: 'x'.repeat(32) }));
    assert.equal(spawnSync(process.execPath, [cli, 'token', 'management'], { env, encoding: 'utf8', timeout: 30_000 }).status, 0);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
