// The server is SIGKILLed in the middle of a recording (no shutdown code runs): its recorder processes are
// orphaned and the job row says "running". The next server on the same data dir takes the job over, stops the
// orphans (encoder first, so its last fragment is finished), and turns what was captured into an asset.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { signManagementToken } from '../../src/auth/tokens.js';
import { probe, sampleFrames } from '../../src/recorder/probe.js';
import { until, sleep } from '../helpers/meetingPeers.js';

const KEYS = { accessKey: 'crash-key', appSecret: 'crash-secret-0123456789abcdef0123456789' };

async function freePort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const port = (srv.address() as { port: number }).port;
  await new Promise((r) => srv.close(r));
  return port;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return !readFileSync(`/proc/${pid}/stat`, 'utf8').includes(') Z ');
  } catch {
    return false;
  }
}

test('a SIGKILLed server: the next one stops the orphaned recorder and keeps what it captured', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'roomcast-crash-'));
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const env = {
    ...process.env,
    DATA_DIR: dir,
    PORT: String(port),
    ACCESS_KEY: KEYS.accessKey,
    APP_SECRET: KEYS.appSecret,
    LOG_LEVEL: 'warn',
    RECORDER_WORKERS: '1',
    RECORDER_TAKEOVER_SECONDS: '10',
  };
  const servers: ChildProcess[] = [];
  let orphans: number[] = [];
  const startServer = async () => {
    const child = spawn(process.execPath, [join(process.cwd(), 'dist', 'src', 'cli.js'), 'start'], { env, stdio: ['ignore', 'ignore', 'inherit'] });
    servers.push(child);
    await until('the server to answer', async () => (await fetch(`${base}/healthz`).catch(() => null))?.ok, 60_000, 200);
    return child;
  };
  const token = await signManagementToken(KEYS);
  const api = async (method: string, path: string, body?: unknown) => {
    const res = await fetch(base + path, {
      method,
      headers: { authorization: `Bearer ${token}`, ...(body ? { 'content-type': 'application/json' } : {}) },
      body: body ? JSON.stringify(body) : undefined,
    });
    return { status: res.status, body: (await res.json()) as any };
  };
  try {
    const first = await startServer();
    const roomId = (await api('POST', '/v2/rooms', { name: 'crash-room' })).body.id;
    const start = await api('POST', `/v2/recordings/room/${roomId}/start`, {});
    assert.equal(start.status, 200);
    const id = start.body.id;
    await until('running', async () => (await api('GET', `/v2/recordings/${id}`)).body.status === 'running', 90_000, 300);
    await sleep(5000);
    const procFile = join(dir, 'work', id, 'processes.json');
    assert.ok(existsSync(procFile), 'the job wrote its process ids');
    const procs = JSON.parse(readFileSync(procFile, 'utf8')) as { encoders: number[]; others: number[] };
    orphans = [...procs.encoders, ...procs.others];
    assert.equal(procs.encoders.length, 1);

    first.kill('SIGKILL');
    await new Promise((r) => first.once('exit', r));
    await sleep(1000);
    assert.ok(orphans.every(alive), 'the recorder outlived its server (what the takeover must clean up)');

    await startServer();
    const done = await until('the recording to be taken over and closed', async () => {
      const r = (await api('GET', `/v2/recordings/${id}`)).body;
      return r.status === 'failed' || r.status === 'completed' ? r : null;
    }, 90_000, 500);
    assert.equal(done.status, 'failed');
    assert.equal(done.error_type, 'INTERNAL_ERROR');
    assert.equal(done.recording_assets?.length, 1, 'what was captured became an asset');
    const asset = done.recording_assets[0];
    assert.equal(asset.metadata.partial, true);
    const file = join(dir, 'assets', asset.path.replace('local://roomcast/', ''));
    const info = await probe(file);
    assert.ok(info.duration > 4, `captured ${info.duration} s`);
    assert.equal(info.streams.find((s) => s.type === 'video')?.codec, 'h264');
    assert.equal((await sampleFrames(file, 2)).length, 2, 'frames decode');
    await until('the orphans to be gone', () => orphans.every((p) => !alive(p)), 10_000, 200);
  } finally {
    for (const s of servers) {
      if (s.exitCode === null && s.signalCode === null) {
        s.kill('SIGTERM');
        await Promise.race([new Promise((r) => s.once('exit', r)), sleep(20_000)]);
        if (s.exitCode === null && s.signalCode === null) s.kill('SIGKILL');
      }
    }
    for (const p of orphans) {
      try {
        process.kill(-p, 'SIGKILL');
      } catch {
        /* gone */
      }
    }
    rmSync(dir, { recursive: true, force: true });
  }
});
