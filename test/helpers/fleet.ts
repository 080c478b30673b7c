// What the fleet tests share: the settings every node and worker of a test fleet gets (its PostgreSQL, Redis and
// bucket on the S3 test server), and `roomcast status` run against them.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import type { TestPostgres } from './postgres.js';
import type { TestRedis } from './redis.js';
import { S3_KEY, S3_REGION, S3_SECRET, type S3TestServer } from './s3TestServer.js';

export function fleetSettings(postgres: TestPostgres, redis: TestRedis, s3: S3TestServer, bucket: string): Record<string, string> {
  return {
    DATABASE_URL: postgres.url,
    REDIS_URL: redis.url,
    STORAGE_URL: `s3://${bucket}/rec`,
    STORAGE_ENDPOINT: s3.endpoint,
    STORAGE_REGION: S3_REGION,
    STORAGE_ACCESS_KEY_ID: S3_KEY,
    STORAGE_SECRET_ACCESS_KEY: S3_SECRET,
  };
}

/** `roomcast status` of the fleet, parsed; `dataDir` is any scratch directory. */
export function fleetStatus(settings: Record<string, string>, dataDir: string): any {
  const r = spawnSync(process.execPath, [join('dist', 'src', 'cli.js'), 'status'], { env: { ...process.env, ...settings, DATA_DIR: dataDir }, encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  return JSON.parse(r.stdout);
}
