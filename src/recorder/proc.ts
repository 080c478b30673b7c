// Child processes of the recorder (Xvfb, pulseaudio, chromium, ffmpeg): spawned in their own process group so
// a stop can take a whole tree (chromium forks renderers), tracked by PID, and killed by a safety net if the
// Node process exits while any is still alive. Short-lived tools (ffprobe) go through runTool.
import { spawn, execFile, type ChildProcess } from 'node:child_process';
import { readdirSync, readFileSync, rmSync } from 'node:fs';
import type { Logger } from '../logger.js';

export interface ExitInfo {
  code: number | null;
  signal: NodeJS.Signals | null;
}

/** Keeps the last `maxLines` lines of a stream, for error messages (ffmpeg and chromium are chatty). */
export class LineRing {
  private readonly lines: string[] = [];
  private partial = '';

  constructor(private readonly maxLines = 50) {}

  /** Appends a chunk; calls `onLine` for every complete line. */
  push(chunk: string, onLine?: (line: string) => void): void {
    const parts = (this.partial + chunk).split(/\r?\n|\r/);
    this.partial = parts.pop() ?? '';
    for (const line of parts) {
      if (!line) continue;
      this.lines.push(line);
      if (this.lines.length > this.maxLines) this.lines.shift();
      onLine?.(line);
    }
  }

  text(): string {
    return [...this.lines, this.partial].filter(Boolean).join('\n');
  }
}

/**
 * How a process ended, for an error message: "ffmpeg exited (SIGKILL)", "chromium exited (1): <line>". `lines`
 * are stderr lines that may say why (the caller leaves out start-up chatter); a SIGKILLed process wrote
 * nothing about its end, so none is quoted then.
 */
export function describeExit(name: string, info: ExitInfo, lines: string[] = []): string {
  const last = info.signal === 'SIGKILL' ? undefined : lines.map((l) => l.trim()).filter(Boolean).at(-1);
  return `${name} exited (${info.signal ?? info.code})${last ? `: ${last.slice(0, 300)}` : ''}`;
}

export interface OwnedProcessOptions {
  name: string;
  command: string;
  args: string[];
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  logger: Logger;
  /** 'pipe' when the wrapper talks to the process (ffmpeg's 'q'). */
  stdin?: 'pipe' | 'ignore';
  /** 'pipe' when the wrapper parses stdout (ffmpeg -progress). */
  stdout?: 'pipe' | 'ignore';
  stderrLines?: number;
  /** Called for every stderr line (after it is kept in the ring). */
  onStderrLine?: (line: string) => void;
}

export interface StopStep {
  /** a signal to send to the process group, or a function that asks the process to end (ffmpeg's 'q') */
  action: NodeJS.Signals | ((p: OwnedProcess) => void);
  /** how long to wait for the exit after this step */
  waitMs: number;
}

const live = new Set<OwnedProcess>();

export class OwnedProcess {
  readonly name: string;
  readonly pid: number;
  readonly child: ChildProcess;
  readonly exited: Promise<ExitInfo>;
  readonly startedAt = Date.now();
  exitInfo: ExitInfo | null = null;
  private readonly stderrRing: LineRing;
  private stopping: Promise<ExitInfo> | null = null;
  private readonly exitListeners = new Set<(info: ExitInfo, expected: boolean) => void>();

  constructor(private readonly opts: OwnedProcessOptions) {
    this.name = opts.name;
    this.stderrRing = new LineRing(opts.stderrLines ?? 50);
    // detached: its own process group (setsid), so kill(-pid) reaches every descendant.
    this.child = spawn(opts.command, opts.args, {
      env: opts.env ?? process.env,
      cwd: opts.cwd,
      detached: true,
      stdio: [opts.stdin ?? 'ignore', opts.stdout ?? 'ignore', 'pipe'],
    });
    if (this.child.pid === undefined) {
      // spawn failures (ENOENT) surface as 'error'; keep the object consistent and report through exited
      this.pid = -1;
    } else {
      this.pid = this.child.pid;
      live.add(this);
      installSafetyNet();
    }
    this.child.stderr?.setEncoding('utf8');
    this.child.stderr?.on('data', (chunk: string) => this.stderrRing.push(chunk, opts.onStderrLine));
    this.exited = new Promise<ExitInfo>((resolve) => {
      let done = false;
      const finish = (info: ExitInfo) => {
        if (done) return;
        done = true;
        this.exitInfo = info;
        live.delete(this);
        // Descendants may outlive the leader (chromium helpers); the group goes with it.
        killGroup(this.pid, 'SIGKILL');
        const expected = this.stopping !== null;
        const level = expected ? 'debug' : 'warn';
        opts.logger[level]({ proc: this.name, pid: this.pid, ...info }, `${this.name} exited`);
        for (const l of this.exitListeners) {
          try {
            l(info, expected);
          } catch (err) {
            opts.logger.error({ err, proc: this.name }, 'exit listener failed');
          }
        }
        resolve(info);
      };
      this.child.once('exit', (code, signal) => finish({ code, signal }));
      this.child.once('error', (err) => {
        opts.logger.error({ err, proc: this.name }, `${this.name} could not be started`);
        this.stderrRing.push(`spawn error: ${err.message}\n`);
        finish({ code: null, signal: null });
      });
    });
    // An EPIPE on stdin (ffmpeg already gone) must not crash the process.
    this.child.stdin?.on('error', () => {});
    opts.logger.debug({ proc: this.name, pid: this.pid, args: opts.args }, `${this.name} started`);
  }

  alive(): boolean {
    return this.exitInfo === null && this.pid > 0;
  }

  stderrTail(): string {
    return this.stderrRing.text();
  }

  /** Listener gets (info, expected): expected is true when the exit follows stop(). */
  onExit(listener: (info: ExitInfo, expected: boolean) => void): () => void {
    this.exitListeners.add(listener);
    return () => this.exitListeners.delete(listener);
  }

  signal(sig: NodeJS.Signals): void {
    if (this.alive()) killGroup(this.pid, sig);
  }

  /** Runs the steps in order until the process has exited; idempotent (later calls share the first). */
  stop(steps: StopStep[]): Promise<ExitInfo> {
    if (this.stopping) return this.stopping;
    this.stopping = (async () => {
      if (!this.alive()) return this.exited;
      for (const step of steps) {
        if (!this.alive()) break;
        if (typeof step.action === 'function') step.action(this);
        else killGroup(this.pid, step.action);
        if (await exitWithin(this.exited, step.waitMs)) break;
        this.opts.logger.debug({ proc: this.name, pid: this.pid }, `${this.name} still running after a stop step`);
      }
      if (this.alive()) killGroup(this.pid, 'SIGKILL');
      return this.exited;
    })();
    return this.stopping;
  }
}

async function exitWithin(exited: Promise<ExitInfo>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<false>((resolve) => {
    timer = setTimeout(() => resolve(false), ms);
  });
  const done = await Promise.race([exited.then(() => true as const), timeout]);
  clearTimeout(timer);
  return done;
}

// Every process here leads its own group (spawned detached = setsid), so the group id is its PID. Only the
// group is signalled: once the leader is reaped its PID may be reused, but a group id stays taken while any
// member lives, and kill(-pgid) with no members left fails harmlessly.
function killGroup(pid: number, sig: NodeJS.Signals): void {
  if (pid <= 0) return;
  try {
    process.kill(-pid, sig);
  } catch {
    /* group already gone */
  }
}

export function spawnOwned(opts: OwnedProcessOptions): OwnedProcess {
  return new OwnedProcess(opts);
}

/** Processes a job's handler process (recorder/handler.ts) runs for this one, by the handler's PID. */
const reported = new Map<number, Array<{ name: string; pid: number }>>();

/** A handler's own processes as it last reported them (itself included): liveProcesses() lists them too. */
export function trackReportedProcesses(handlerPid: number, procs: Array<{ name: string; pid: number }>): void {
  reported.set(handlerPid, procs);
}

export function forgetReportedProcesses(handlerPid: number): void {
  reported.delete(handlerPid);
}

/** PIDs of the recorder's processes still alive, of this Node process and its job handlers (tests assert it is empty). */
export function liveProcesses(): Array<{ name: string; pid: number }> {
  const own = [...live].map((p) => ({ name: p.name, pid: p.pid }));
  const ofHandlers = [...reported.values()].flat().filter((p) => {
    const f = statFields(p.pid);
    return f !== null && f[0] !== 'Z';
  });
  return [...own, ...ofHandlers];
}

const tempDirs = new Set<string>();

/** The per-job directories tracked now (a job's handler reports them: they outlive its SIGKILL). */
export function trackedTempDirs(): string[] {
  return [...tempDirs];
}

/** A per-job directory (pulse runtime, chromium profile) the safety net removes if Node exits first. */
export function trackTempDir(dir: string): () => void {
  tempDirs.add(dir);
  installSafetyNet();
  return () => {
    tempDirs.delete(dir);
    rmSync(dir, { recursive: true, force: true });
  };
}

let netInstalled = false;
// Last resort: if Node exits with children alive (a crash, process.exit in a handler), take them along,
// and their temporary directories.
// Signals: only when nobody else handles them (the server's own SIGTERM handler stops jobs gracefully and
// then exits, which runs the 'exit' hook).
function installSafetyNet(): void {
  if (netInstalled) return;
  netInstalled = true;
  const killAll = () => {
    for (const p of live) killGroup(p.pid, 'SIGKILL');
    live.clear();
    for (const d of tempDirs) {
      try {
        rmSync(d, { recursive: true, force: true });
      } catch {
        /* best effort while exiting */
      }
    }
    tempDirs.clear();
  };
  process.on('exit', killAll);
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    const handler = () => {
      if (process.listenerCount(sig) > 1) return;
      killAll();
      process.removeListener(sig, handler);
      process.kill(process.pid, sig);
    };
    process.on(sig, handler);
  }
}

// --- CPU accounting from /proc (bench) ---

const clockTicks = 100; // CLK_TCK is 100 on every Linux this runs on; /proc/self/stat is in these units

/** utime+stime (seconds) summed over the live processes of a process group. */
export function groupCpuSeconds(pgid: number): number {
  let ticks = 0;
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const f = statFields(Number(entry));
    if (!f || Number(f[2]) !== pgid) continue;
    ticks += Number(f[11]) + Number(f[12]);
  }
  return ticks / clockTicks;
}

/** Fields after the command name in /proc/<pid>/stat: [0]=state, [1]=ppid, [2]=pgrp, [11]=utime, [12]=stime. */
export function statFields(pid: number): string[] | null {
  try {
    const raw = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return raw.slice(raw.lastIndexOf(')') + 2).split(' ');
  } catch {
    return null;
  }
}

/** Every live descendant of `root` (default: this process) with its command name. */
export function descendants(root = process.pid): Array<{ pid: number; ppid: number; comm: string }> {
  const all: Array<{ pid: number; ppid: number; comm: string }> = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const pid = Number(entry);
    const f = statFields(pid);
    if (!f || f[0] === 'Z') continue;
    let comm = '';
    try {
      comm = readFileSync(`/proc/${pid}/comm`, 'utf8').trim();
    } catch {
      continue;
    }
    all.push({ pid, ppid: Number(f[1]), comm });
  }
  const out: typeof all = [];
  const parents = new Set([root]);
  let grew = true;
  while (grew) {
    grew = false;
    for (const p of all) {
      if (!parents.has(p.pid) && parents.has(p.ppid)) {
        parents.add(p.pid);
        out.push(p);
        grew = true;
      }
    }
  }
  return out;
}

// --- short-lived tools ---

export interface ToolResult {
  stdout: Buffer;
  stderr: string;
}

/** Runs a short-lived tool (ffprobe, one-frame ffmpeg) to completion; rejects with its stderr on failure. */
export function runTool(command: string, args: string[], timeoutMs = 60_000): Promise<ToolResult> {
  return new Promise((resolve, reject) => {
    execFile(
      command,
      args,
      { encoding: 'buffer', maxBuffer: 256 * 1024 * 1024, timeout: timeoutMs, killSignal: 'SIGKILL' },
      (err, stdout, stderr) => {
        const errText = stderr.toString('utf8');
        if (err) {
          reject(new Error(`${command} failed: ${err.message}\n${errText.slice(-2000)}`));
          return;
        }
        resolve({ stdout, stderr: errText });
      },
    );
  });
}
