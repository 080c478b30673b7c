// Starts a real roomcast server on a free port with a fresh data dir, for one test file.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig, type Config } from '../../src/config.js';
import { startServer, type RunningServer } from '../../src/server.js';
import { signManagementToken, signAppToken } from '../../src/auth/tokens.js';

export const TEST_KEYS = { accessKey: 'test-access-key', appSecret: 'test-app-secret-0123456789abcdef0123456789' };

export interface TestServer extends RunningServer {
  dataDir: string;
  config: Config;
  token: string;
  /** JSON request with the management token unless `token` is given ('' = no header). */
  api<T = any>(method: string, path: string, body?: unknown, token?: string): Promise<{ status: number; body: T; headers: Headers }>;
  appToken(roomId: string, role: string, userId?: string): Promise<string>;
  stop(): Promise<void>;
}

export async function startTestServer(env: Record<string, string> = {}, dataDir?: string): Promise<TestServer> {
  const dir = dataDir ?? mkdtempSync(join(tmpdir(), 'roomcast-test-'));
  const config = loadConfig({
    DATA_DIR: dir,
    PORT: '0',
    LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'silent',
    ACCESS_KEY: TEST_KEYS.accessKey,
    APP_SECRET: TEST_KEYS.appSecret,
    DATABASE_URL: process.env.TEST_DATABASE_URL ?? '',
    // no recorder work unless a test asks for it (RECORDER_WORKERS: '1'): API tests must not launch browsers
    RECORDER_WORKERS: '0',
    // tests that record do not measure the machine's capture offset first (test/recorder/calibration.test.ts does)
    RECORDER_AUDIO_OFFSET_MS: '0',
    ...env,
  });
  const server = await startServer(config);
  const token = await signManagementToken(TEST_KEYS);
  const api: TestServer['api'] = async (method, path, body, tok) => {
    const headers: Record<string, string> = {};
    const useToken = tok ?? token;
    if (useToken) headers.authorization = `Bearer ${useToken}`;
    if (body !== undefined) headers['content-type'] = 'application/json';
    const res = await fetch(server.url + path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
    const text = await res.text();
    let parsed: unknown = text;
    try {
      parsed = text ? JSON.parse(text) : null;
    } catch {
      /* not JSON */
    }
    return { status: res.status, body: parsed as any, headers: res.headers };
  };
  return {
    ...server,
    dataDir: dir,
    config,
    token,
    api,
    appToken: (roomId, role, userId = '') => signAppToken(TEST_KEYS, { room_id: roomId, role, user_id: userId }),
    async stop() {
      await server.close();
      if (!dataDir) rmSync(dir, { recursive: true, force: true });
    },
  };
}
