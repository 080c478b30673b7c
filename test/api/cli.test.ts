// The roomcast CLI: tokens it prints are signed with the configured secret and carry the reference's claims.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
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
