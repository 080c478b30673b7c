// One virtual screen and one virtual sound card per recording job: an Xvfb on a free display number and a
// PulseAudio daemon private to the job with a null sink. The browser renders and plays into them; ffmpeg
// grabs the screen (x11grab) and the sink's monitor (pulse).
//
// PulseAudio as root: the daemon only prints a warning ("not intended to be run as root") in user mode and
// runs fine. We never use --system (a shared system daemon is exactly what we do not want). Isolation comes
// from a private directory per job: HOME, PULSE_RUNTIME_PATH, PULSE_STATE_PATH point into it, `-n` skips
// default.pa, `-F` loads our generated script, and the native-protocol socket lives in that directory.
// `--use-pid-file=false` lets several daemons of the same user run side by side.
import { mkdtempSync, writeFileSync, existsSync, mkdirSync, readFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Logger } from '../logger.js';
import { spawnOwned, trackTempDir, type OwnedProcess, type ExitInfo } from './proc.js';

export interface DisplayOptions {
  width: number;
  height: number;
  logger: Logger;
  /** first display number tried (default 99, away from real desktops) */
  firstDisplay?: number;
  /** ms to wait for each daemon to become ready (default 15 s) */
  readyTimeoutMs?: number;
  sinkName?: string;
}

export interface RecorderDisplay {
  /** e.g. ":99" */
  display: string;
  displayNumber: number;
  /** the capture area: the top-left width×height of the screen */
  width: number;
  height: number;
  /** the Xvfb screen, SCREEN_MARGIN larger than the capture area (see startXvfb) */
  screen: { width: number; height: number };
  /** e.g. "unix:/tmp/roomcast-display-x/pulse/native" */
  pulseServer: string;
  sinkName: string;
  /** the source ffmpeg records: `${sinkName}.monitor` */
  monitorSource: string;
  /** environment for children: DISPLAY, PULSE_SERVER, PULSE_SINK, PULSE_SOURCE, PULSE_CLIENTCONFIG */
  env: Record<string, string>;
  pids: { xvfb: number; pulse: number };
  /** Called once if Xvfb or pulseaudio dies without stop(). */
  onExit(listener: (which: 'xvfb' | 'pulse', info: ExitInfo) => void): () => void;
  /** Stops both daemons by PID and removes the job's directory. Idempotent. */
  stop(): Promise<void>;
}

const X_SOCKET_DIR = '/tmp/.X11-unix';
const MAX_DISPLAY_TRIES = 50;
/**
 * The screen is a little larger than what we capture. Chromium on X11 without a window manager shrinks a
 * window whose size equals the screen's by one pixel each way (measured: 1279x719 on a 1280x720 screen,
 * with or without --kiosk), which would put a black line at the right and bottom of every recording. With a
 * larger screen the window gets exactly --window-size and ffmpeg grabs exactly that rectangle at +0,0.
 */
export const SCREEN_MARGIN = 16;

export async function startDisplay(opts: DisplayOptions): Promise<RecorderDisplay> {
  const { width, height, logger } = opts;
  if (!Number.isInteger(width) || !Number.isInteger(height) || width < 16 || height < 16 || width % 2 || height % 2) {
    throw new Error(`display size must be even integers ≥ 16, got ${width}x${height}`);
  }
  const readyMs = opts.readyTimeoutMs ?? 15_000;
  const sinkName = opts.sinkName ?? 'roomcast';
  const dir = mkdtempSync(join(tmpdir(), 'roomcast-display-'));
  const removeDir = trackTempDir(dir);
  let xvfb: OwnedProcess | null = null;
  let pulse: OwnedProcess | null = null;
  try {
    const x = await startXvfb(width, height, opts.firstDisplay ?? 99, readyMs, logger);
    xvfb = x.proc;
    const p = await startPulse(dir, sinkName, readyMs, logger);
    pulse = p.proc;
    return makeHandle(removeDir, x.number, width, height, xvfb, pulse, p.server, p.clientConfig, sinkName, logger);
  } catch (err) {
    await Promise.all([pulse && stopDaemon(pulse), xvfb && stopDaemon(xvfb)]);
    removeDir();
    throw err;
  }
}

function makeHandle(
  removeDir: () => void,
  n: number,
  width: number,
  height: number,
  xvfb: OwnedProcess,
  pulse: OwnedProcess,
  pulseServer: string,
  clientConfig: string,
  sinkName: string,
  logger: Logger,
): RecorderDisplay {
  const listeners = new Set<(which: 'xvfb' | 'pulse', info: ExitInfo) => void>();
  let reported = false;
  const report = (which: 'xvfb' | 'pulse') => (info: ExitInfo, expected: boolean) => {
    if (expected || reported) return;
    reported = true;
    logger.error({ which, ...info }, 'display daemon died');
    for (const l of listeners) l(which, info);
  };
  xvfb.onExit(report('xvfb'));
  pulse.onExit(report('pulse'));
  let stopping: Promise<void> | null = null;
  return {
    display: `:${n}`,
    displayNumber: n,
    width,
    height,
    screen: { width: width + SCREEN_MARGIN, height: height + SCREEN_MARGIN },
    pulseServer,
    sinkName,
    monitorSource: `${sinkName}.monitor`,
    env: {
      DISPLAY: `:${n}`,
      PULSE_SERVER: pulseServer,
      PULSE_SINK: sinkName,
      PULSE_SOURCE: `${sinkName}.monitor`,
      PULSE_CLIENTCONFIG: clientConfig,
    },
    pids: { xvfb: xvfb.pid, pulse: pulse.pid },
    onExit(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    stop() {
      stopping ??= (async () => {
        // pulse first: clients (chromium, ffmpeg) should be gone already; Xvfb last so nothing draws into a void
        await stopDaemon(pulse);
        await stopDaemon(xvfb);
        removeDir();
        logger.debug({ display: n }, 'display stopped');
      })();
      return stopping;
    },
  };
}

function stopDaemon(p: OwnedProcess): Promise<ExitInfo> {
  return p.stop([
    { action: 'SIGTERM', waitMs: 3000 },
    { action: 'SIGKILL', waitMs: 3000 },
  ]);
}

// --- Xvfb ---

/**
 * Display numbers nobody holds, from `first` up: no lock file, or a lock whose PID is dead (left by a killed
 * server; Xvfb replaces such locks itself), and no X server answering on the socket.
 */
async function* freeDisplays(first: number): AsyncGenerator<number> {
  for (let n = first; n < first + 1000; n++) {
    const lock = `/tmp/.X${n}-lock`;
    if (existsSync(lock)) {
      const pid = Number.parseInt(readFileSync(lock, 'utf8').trim(), 10);
      if (!Number.isInteger(pid) || pidAlive(pid)) continue;
    }
    if (existsSync(`${X_SOCKET_DIR}/X${n}`) && (await xReady(n))) continue;
    yield n;
  }
}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

async function startXvfb(width: number, height: number, first: number, readyMs: number, logger: Logger) {
  let tries = 0;
  for await (const n of freeDisplays(first)) {
    if (++tries > MAX_DISPLAY_TRIES) break;
    // Not -displayfd: it skips the /tmp/.X<n>-lock file, and other programs on the machine pick displays by
    // those locks. Xvfb itself takes the lock atomically; losing a race shows up as an early exit → next n.
    const proc = spawnOwned({
      name: 'xvfb',
      command: 'Xvfb',
      args: [`:${n}`, '-screen', '0', `${width + SCREEN_MARGIN}x${height + SCREEN_MARGIN}x24`, '-nolisten', 'tcp', '-noreset', '-dpi', '96'],
      logger: logger.child({ display: n }),
      stderrLines: 30,
    });
    const ready = await waitUntil(() => xReady(n), proc, readyMs);
    if (ready === 'ready') {
      logger.debug({ display: n, pid: proc.pid }, 'Xvfb ready');
      return { proc, number: n };
    }
    await stopDaemon(proc);
    const tail = proc.stderrTail();
    if (ready === 'timeout') throw new Error(`Xvfb :${n} not ready within ${readyMs} ms: ${tail}`);
    if (!/already active|Cannot establish any listening sockets|lock/i.test(tail)) {
      throw new Error(`Xvfb :${n} failed: ${tail}`);
    }
    logger.debug({ display: n }, 'display number taken meanwhile, trying the next');
  }
  throw new Error('no free X display number');
}

/** An X11 connection setup on the display's socket answered with "success": the server serves clients. */
function xReady(n: number): Promise<boolean> {
  const path = `${X_SOCKET_DIR}/X${n}`;
  if (!existsSync(path)) return Promise.resolve(false);
  return new Promise((resolve) => {
    const sock = connect(path);
    const done = (ok: boolean) => {
      sock.destroy();
      resolve(ok);
    };
    sock.setTimeout(2000, () => done(false));
    sock.once('error', () => done(false));
    sock.once('connect', () => {
      // little-endian setup request, protocol 11.0, no authorization
      const req = Buffer.alloc(12);
      req[0] = 0x6c;
      req.writeUInt16LE(11, 2);
      sock.write(req);
    });
    sock.once('data', (buf) => done(buf[0] === 1));
  });
}

// --- PulseAudio ---

async function startPulse(dir: string, sinkName: string, readyMs: number, logger: Logger) {
  const pulseDir = join(dir, 'pulse');
  mkdirSync(join(pulseDir, 'runtime'), { recursive: true, mode: 0o700 });
  mkdirSync(join(pulseDir, 'state'), { recursive: true, mode: 0o700 });
  const socket = join(pulseDir, 'native');
  const script = join(pulseDir, 'daemon.pa');
  // The sink is loaded before the protocol module: once the socket accepts, the sink exists.
  writeFileSync(
    script,
    [
      `load-module module-null-sink sink_name=${sinkName} rate=48000 channels=2 sink_properties=device.description=roomcast-recorder`,
      // An idle null sink renders in 2 s blocks, so the encoder's first audio (and with it, through the
      // muxer's interleaving, its first video frame) came up to 2 s late. A low-latency listener on the
      // monitor from the start keeps the sink rendering in 20 ms blocks (measured: first audio 2 s → 20 ms).
      `load-module module-null-sink sink_name=${sinkName}_clock rate=48000 channels=2 sink_properties=device.description=roomcast-clock`,
      `load-module module-loopback source=${sinkName}.monitor sink=${sinkName}_clock latency_msec=20 source_dont_move=true sink_dont_move=true`,
      // the sink planned its first 2 s block before the listener came: restart its clock now
      `suspend-sink ${sinkName} 1`,
      `suspend-sink ${sinkName} 0`,
      `set-default-sink ${sinkName}`,
      `set-default-source ${sinkName}.monitor`,
      `load-module module-native-protocol-unix auth-anonymous=1 socket=${socket}`,
      '',
    ].join('\n'),
  );
  // Clients of this job must never autospawn a shared daemon if ours is gone.
  const clientConfig = join(pulseDir, 'client.conf');
  writeFileSync(clientConfig, 'autospawn = no\n');
  const proc = spawnOwned({
    name: 'pulseaudio',
    command: 'pulseaudio',
    args: [
      '-n',
      '-F',
      script,
      '--daemonize=no',
      '--system=false',
      '--exit-idle-time=-1',
      '--use-pid-file=false',
      '--realtime=false',
      '--high-priority=false',
      '--log-target=stderr',
      '--log-level=error',
    ],
    env: {
      PATH: process.env.PATH,
      HOME: pulseDir,
      XDG_CONFIG_HOME: join(pulseDir, 'config'),
      XDG_RUNTIME_DIR: join(pulseDir, 'runtime'),
      PULSE_RUNTIME_PATH: join(pulseDir, 'runtime'),
      PULSE_STATE_PATH: join(pulseDir, 'state'),
    },
    logger: logger.child({ pulse: pulseDir }),
    stderrLines: 30,
  });
  const ready = await waitUntil(() => unixAccepts(socket), proc, readyMs);
  if (ready !== 'ready') {
    await stopDaemon(proc);
    throw new Error(`pulseaudio ${ready === 'timeout' ? `not ready within ${readyMs} ms` : 'exited'}: ${proc.stderrTail()}`);
  }
  logger.debug({ pid: proc.pid }, 'pulseaudio ready');
  return { proc, server: `unix:${socket}`, clientConfig };
}

function unixAccepts(path: string): Promise<boolean> {
  if (!existsSync(path)) return Promise.resolve(false);
  return new Promise((resolve) => {
    const sock = connect(path);
    sock.setTimeout(2000, () => {
      sock.destroy();
      resolve(false);
    });
    sock.once('error', () => resolve(false));
    sock.once('connect', () => {
      sock.destroy();
      resolve(true);
    });
  });
}

/** Polls `check` (every 50 ms, no fixed sleeps) until true, the process exits, or the timeout. */
async function waitUntil(check: () => Promise<boolean>, proc: OwnedProcess, timeoutMs: number): Promise<'ready' | 'exited' | 'timeout'> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (!proc.alive()) return 'exited';
    if (await check()) return proc.alive() ? 'ready' : 'exited';
    const exited = await Promise.race([proc.exited.then(() => true), new Promise<false>((r) => setTimeout(() => r(false), 50))]);
    if (exited) return 'exited';
  }
  return 'timeout';
}
