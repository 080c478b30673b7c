// The shared S3-compatible test server (../shared/tools/s3-test-server: OpenStack Swift with s3api, real SigV4)
// on free ports with a state dir of this test's own; stop() kills what it started (by the PIDs it recorded).
// useS3Bucket: the setup the upload tests share (a bucket, and a server that uploads to it).
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CreateBucketCommand, ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { before, after } from 'node:test';
import { startTestServer, type TestServer } from './server.js';

// compiled to dist/test/helpers/: the repo is three levels up, shared/ beside it (a worktree elsewhere: S3_TEST_TOOL
// or the machine's /work/shared)
const S3_TOOL_CANDIDATES = [
  process.env.S3_TEST_TOOL,
  fileURLToPath(new URL('../../../../shared/tools/s3-test-server', import.meta.url)),
  '/work/shared/tools/s3-test-server',
].filter((p): p is string => !!p);
export const S3_TOOL = S3_TOOL_CANDIDATES.find((p) => existsSync(p)) ?? S3_TOOL_CANDIDATES[0];

export const S3_KEY = 'test:tester';
export const S3_SECRET = 'testing';
export const S3_REGION = 'us-east-1';

async function portFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const srv = createServer();
    srv.once('error', () => resolve(false));
    srv.listen(port, '127.0.0.1', () => srv.close(() => resolve(true)));
  });
}

/** A base port with the 4 ports after it free too (the tool uses 5 consecutive ports). */
async function freePortRun(): Promise<number> {
  for (let i = 0; i < 50; i++) {
    const base = 20000 + Math.floor(Math.random() * 30000);
    let ok = true;
    for (let p = base; p < base + 5 && ok; p++) ok = await portFree(p);
    if (ok) return base;
  }
  throw new Error('no run of 5 free ports found');
}

export class S3TestServer {
  readonly dir = mkdtempSync(join(tmpdir(), 's3-test-'));
  port = 0;
  running = false;

  get endpoint(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  async start(): Promise<void> {
    if (!existsSync(S3_TOOL)) throw new Error(`${S3_TOOL} is missing: the tests expect ../shared beside the repo`);
    if (!this.port) this.port = await freePortRun();
    const res = spawnSync(S3_TOOL, ['start', this.dir], {
      env: { ...process.env, S3_TEST_PORT: String(this.port) },
      stdio: ['ignore', 'pipe', 'pipe'],
      encoding: 'utf8',
      timeout: 300_000,
    });
    if (res.status !== 0) throw new Error(`s3-test-server start failed (${res.status}): ${res.stderr}`);
    this.running = true;
  }

  /** Stops the processes; the stored objects stay in the state dir for a later start. */
  stop(): void {
    spawnSync(S3_TOOL, ['stop', this.dir], { stdio: 'ignore', timeout: 60_000 });
    this.running = false;
  }

  destroy(): void {
    this.stop();
    rmSync(this.dir, { recursive: true, force: true });
  }

  client(secret = S3_SECRET): S3Client {
    return new S3Client({
      endpoint: this.endpoint,
      region: S3_REGION,
      forcePathStyle: true,
      credentials: { accessKeyId: S3_KEY, secretAccessKey: secret },
      requestChecksumCalculation: 'WHEN_REQUIRED',
      responseChecksumValidation: 'WHEN_REQUIRED',
    });
  }

  async createBucket(name: string): Promise<void> {
    const c = this.client();
    try {
      // right after start, Swift's proxy is up before its storage servers: 503 "reduce your request rate"
      for (let i = 0; ; i++) {
        try {
          await c.send(new CreateBucketCommand({ Bucket: name }));
          return;
        } catch (err) {
          if ((err as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode !== 503 || i >= 120) throw err;
          await new Promise((r) => setTimeout(r, 500));
        }
      }
    } finally {
      c.destroy();
    }
  }

  /** keys under a prefix of a bucket */
  async list(bucket: string, prefix: string): Promise<string[]> {
    const c = this.client();
    try {
      const res = await c.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix }));
      return (res.Contents ?? []).map((o) => o.Key ?? '');
    } finally {
      c.destroy();
    }
  }

  /** settings.recording.upload for a template */
  upload(bucket: string, prefix?: string, secret = S3_SECRET): Record<string, unknown> {
    return {
      type: 's3',
      location: bucket,
      ...(prefix !== undefined ? { prefix } : {}),
      options: { region: S3_REGION, endpoint: this.endpoint },
      credentials: { key: S3_KEY, secretKey: secret },
    };
  }
}

/** What an upload test runs against: the test server, and a client of the S3 test server to check the bucket. */
export interface S3Setup {
  s: TestServer;
  client: S3Client;
}

/**
 * The setup the upload tests share, as the test file's before/after hooks: the S3 test server with `bucket`, a
 * client of it, and a test server without recorder workers that may upload there (the S3 endpoint is on
 * loopback: STORAGE_ALLOW_PRIVATE). `started` gets them once up; the S3 test server is returned at once.
 */
export function useS3Bucket(bucket: string, started: (setup: S3Setup) => void): S3TestServer {
  const s3 = new S3TestServer();
  const setup: Partial<S3Setup> = {};
  before(async () => {
    await s3.start();
    await s3.createBucket(bucket);
    setup.client = s3.client();
    setup.s = await startTestServer({ RECORDER_WORKERS: '0', STORAGE_ALLOW_PRIVATE: 'true' });
    started(setup as S3Setup);
  });
  after(async () => {
    await setup.s?.stop();
    setup.client?.destroy();
    s3.destroy();
  });
  return s3;
}
