// A roomcast server as a child process (`node dist/src/cli.js start`) on a fixed port and data dir, for tests
// that SIGKILL it and start the next one in its place (no shutdown code runs: a crash, an OOM kill); and a
// fleet's recorder machines (`roomcast worker`) beside it.
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { signAppToken, signManagementToken } from '../../src/auth/tokens.js';
import { sleep, until, within } from './meetingPeers.js';

const KEYS = { accessKey: 'crash-key', appSecret: 'crash-secret-0123456789abcdef0123456789' };

async function freePort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const port = (srv.address() as { port: number }).port;
  await new Promise((r) => srv.close(r));
  return port;
}

/** The process is running (not a zombie). */
export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return !readFileSync(`/proc/${pid}/stat`, 'utf8').includes(') Z ');
  } catch {
    return false;
  }
}

/** SIGKILLs the process groups led by these pids (what a killed server left running), if still there. */
export function killGroups(pids: number[]): void {
  for (const p of pids) {
    try {
      process.kill(-p, 'SIGKILL');
    } catch {
      /* gone */
    }
  }
}

/** A process and every descendant (by parent pid, whatever their process group), innermost last. */
export function processTree(pid: number): number[] {
  const children = new Map<number, number[]>();
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      // "pid (comm) state ppid …": comm may hold spaces, so read after its closing parenthesis
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      children.set(ppid, [...(children.get(ppid) ?? []), Number(name)]);
    } catch {
      /* gone meanwhile */
    }
  }
  const out: number[] = [];
  const walk = (p: number) => {
    out.push(p);
    for (const c of children.get(p) ?? []) walk(c);
  };
  walk(pid);
  return out;
}

/** A machine's power cut, as near as one machine gets: SIGKILL to a process and all it started, at once. */
export function killTree(pid: number): number[] {
  const pids = processTree(pid);
  for (const p of pids) {
    try {
      process.kill(p, 'SIGKILL');
    } catch {
      /* gone */
    }
  }
  return pids;
}

export interface ServerProcesses {
  dir: string;
  base: string;
  /** starts a server on the port and data dir, resolves once it answers /healthz */
  start(): Promise<ChildProcess>;
  /** starts `roomcast worker` (a fleet's recorder machine) with its own data dir and these settings */
  startWorker(env: Record<string, string>): ChildProcess;
  /** SIGKILLs a server started here and waits for its exit */
  kill(child: ChildProcess): Promise<void>;
  /** JSON request with a management token */
  api(method: string, path: string, body?: unknown): Promise<{ status: number; body: any }>;
  appToken(roomId: string, role: string, userId?: string): Promise<string>;
  managementToken(): Promise<string>;
  /** stops every server still running (SIGTERM, then SIGKILL) and removes the data dir */
  close(): Promise<void>;
}

export async function serverProcesses(extraEnv: Record<string, string> = {}): Promise<ServerProcesses> {
  const dir = mkdtempSync(join(tmpdir(), 'roomcast-crash-'));
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  // a fixed capture offset: the calibration capture a recording server otherwise starts is no job, so nothing
  // stops it when that server is SIGKILLed (it would run on after the test)
  const env = { ...process.env, DATA_DIR: dir, PORT: String(port), ACCESS_KEY: KEYS.accessKey, APP_SECRET: KEYS.appSecret, LOG_LEVEL: 'warn', RECORDER_AUDIO_OFFSET_MS: '0', ...extraEnv };
  const servers: ChildProcess[] = [];
  const token = await signManagementToken(KEYS);
  const running = (s: ChildProcess) => s.exitCode === null && s.signalCode === null;
  return {
    dir,
    base,
    async start() {
      const child = spawn(process.execPath, [join(process.cwd(), 'dist', 'src', 'cli.js'), 'start'], { env, stdio: ['ignore', 'ignore', 'inherit'] });
      servers.push(child);
      await until('the server to answer', async () => (await fetch(`${base}/healthz`).catch(() => null))?.ok, 60_000, 200);
      return child;
    },
    startWorker(workerEnv) {
      const dataDir = mkdtempSync(join(dir, 'worker-'));
      // its log (stdout) stays in its data dir, for a failing test to show: FLEET_LOG_TO=<file> copies it out
      const log = openSync(process.env.FLEET_LOG_TO ?? join(dataDir, 'worker.log'), 'a');
      const child = spawn(process.execPath, [join(process.cwd(), 'dist', 'src', 'cli.js'), 'worker'], {
        env: { ...env, DATA_DIR: dataDir, ...workerEnv },
        stdio: ['ignore', log, 'inherit'],
      });
      closeSync(log);
      servers.push(child);
      return child;
    },
    async kill(child) {
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGKILL');
      if (running(child)) await exited;
    },
    async api(method, path, body) {
      const res = await fetch(base + path, {
        method,
        headers: { authorization: `Bearer ${token}`, ...(body ? { 'content-type': 'application/json' } : {}) },
        body: body ? JSON.stringify(body) : undefined,
      });
      return { status: res.status, body: (await res.json()) as any };
    },
    appToken: (roomId, role, userId = '') => signAppToken(KEYS, { room_id: roomId, role, user_id: userId }),
    managementToken: async () => token,
    async close() {
      for (const s of servers) {
        if (!running(s)) continue;
        s.kill('SIGTERM');
        await within(new Promise((r) => s.once('exit', r)), 20_000);
        if (running(s)) s.kill('SIGKILL');
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
