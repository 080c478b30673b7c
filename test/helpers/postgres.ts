// A throwaway PostgreSQL server for one test file: initdb into a temp dir, listen on 127.0.0.1 at a free port
// (unix socket in the temp dir, so it never collides with a system server), one database, trust auth.
// initdb and postgres refuse to run as root: as root they run as the `postgres` system user.
import { execFileSync } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';

export interface TestPostgres {
  /** postgres://postgres@127.0.0.1:<port>/<db> */
  url: string;
  pid: number;
  stop(): Promise<void>;
}

/** The newest /usr/lib/postgresql/<ver>/bin holding initdb, or null. */
export function findPostgresBin(): string | null {
  const root = '/usr/lib/postgresql';
  if (!existsSync(root)) return null;
  const versions = readdirSync(root)
    .filter((v) => /^\d+(\.\d+)?$/.test(v) && existsSync(join(root, v, 'bin', 'initdb')) && existsSync(join(root, v, 'bin', 'pg_ctl')))
    .sort((a, b) => Number(b) - Number(a));
  return versions.length ? join(root, versions[0], 'bin') : null;
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  // pg_ctl daemonizes the server, so it is not our child: an exited one may linger as a zombie until reaped.
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
}

export async function startPostgres(dbName = 'roomcast_test'): Promise<TestPostgres> {
  const bin = findPostgresBin();
  if (!bin) {
    // A failure, not a skip: the PostgreSQL tests are part of the suite.
    throw new Error(
      'PostgreSQL server binaries not found (no /usr/lib/postgresql/<version>/bin/initdb). ' +
        'Install them with `node scripts/setup.mjs --test` (Debian package "postgresql").',
    );
  }
  const asRoot = process.getuid?.() === 0;
  const run = (cmd: string, args: string[]) => {
    const [file, argv] = asRoot ? ['runuser', ['-u', 'postgres', '--', join(bin, cmd), ...args]] : [join(bin, cmd), args];
    return execFileSync(file, argv, { stdio: ['ignore', 'pipe', 'pipe'], timeout: 120_000 }).toString();
  };

  const dir = mkdtempSync(join(tmpdir(), 'roomcast-pg-'));
  const data = join(dir, 'data');
  const log = join(dir, 'server.log');
  let pid = 0;
  const cleanup = () => {
    if (pid && alive(pid)) process.kill(pid, 'SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  };
  // If the test process dies without calling stop(), do not leave a server behind.
  const onExit = () => cleanup();
  process.once('exit', onExit);
  try {
    if (asRoot) {
      chownSync(dir, uidOf('postgres'), gidOf('postgres'));
    }
    writeFileSync(log, '');
    if (asRoot) chownSync(log, uidOf('postgres'), gidOf('postgres'));
    run('initdb', ['-D', data, '-U', 'postgres', '-A', 'trust', '-E', 'UTF8', '--locale=C', '--no-sync']);
    const port = await freePort();
    // fsync off and a small footprint: a test server holds nothing worth keeping.
    const opts = `-h 127.0.0.1 -p ${port} -k ${dir} -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=50 -c shared_buffers=16MB`;
    run('pg_ctl', ['start', '-w', '-t', '60', '-D', data, '-l', log, '-o', opts]);
    pid = Number(readFileSync(join(data, 'postmaster.pid'), 'utf8').split('\n')[0]);
    const admin = new pg.Client({ host: '127.0.0.1', port, user: 'postgres', database: 'postgres' });
    await admin.connect();
    try {
      await admin.query(`CREATE DATABASE ${dbName}`);
    } finally {
      await admin.end();
    }
    const url = `postgres://postgres@127.0.0.1:${port}/${dbName}`;
    return {
      url,
      pid,
      async stop() {
        process.off('exit', onExit);
        // SIGQUIT = immediate shutdown of the postmaster and its children; SIGKILL if it lingers.
        if (alive(pid)) process.kill(pid, 'SIGQUIT');
        for (let i = 0; i < 200 && alive(pid); i++) await new Promise((r) => setTimeout(r, 50));
        cleanup();
      },
    };
  } catch (err) {
    process.off('exit', onExit);
    const serverLog = existsSync(log) ? readFileSync(log, 'utf8').slice(-2000) : '';
    cleanup();
    const stderr = (err as { stderr?: Buffer }).stderr?.toString() ?? '';
    throw new Error(`could not start PostgreSQL from ${bin}: ${String(err)}\n${stderr}\n${serverLog}`);
  }
}

function idOf(flag: '-u' | '-g', name: string): number {
  return Number(execFileSync('id', [flag, name]).toString().trim());
}
const uidOf = (name: string) => idOf('-u', name);
const gidOf = (name: string) => idOf('-g', name);
