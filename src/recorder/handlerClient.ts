// The worker's side of a job's handler process: launches `node …/recorder/handler.js` for one capture and
// makes it a Capture (recorder/jobSpec.ts) over the JSON-lines channel. The handler dying on its own (a crash,
// an out-of-memory kill, SIGKILL) is the capture crashing: its processes are stopped here (encoder first, so
// its last fragment is finished) and the job ends with what was captured.
import { spawn } from 'node:child_process';
import { rmSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { Logger } from '../logger.js';
import { readMessages, messageWriter, type FromHandler, type ToHandler } from './channel.js';
import type { Capture, CaptureResult, EncoderRestart, LaunchCapture } from './jobSpec.js';
import { stopProcesses, type JobProcesses } from './leftovers.js';
import { LineRing, describeExit, forgetReportedProcesses, trackReportedProcesses } from './proc.js';

export const HANDLER_SCRIPT = fileURLToPath(new URL('./handler.js', import.meta.url));
/** a stop that takes longer than this (encoder trailer, browser close) is given up on */
const STOP_TIMEOUT_MS = 60_000;
const LEVELS: Record<number, 'trace' | 'debug' | 'info' | 'warn' | 'error' | 'fatal'> = { 10: 'trace', 20: 'debug', 30: 'info', 40: 'warn', 50: 'error', 60: 'fatal' };

/** A pino line of the handler, logged again by the worker's logger (one log stream, one redaction). */
function relog(log: Logger, line: string, handlerPid: number): void {
  try {
    const { level, msg, time: _t, pid: _p, hostname: _h, ...fields } = JSON.parse(line) as Record<string, unknown>;
    log[LEVELS[Number(level)] ?? 'info']({ ...fields, handlerPid }, typeof msg === 'string' ? msg : '');
  } catch {
    log.info({ handlerPid }, line);
  }
}

/** Handlers of this process still running: a Node exit takes them along (not a SIGKILL: then the takeover does). */
const running = new Set<number>();
let exitHookInstalled = false;
function endWithThisProcess(pid: number): void {
  running.add(pid);
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  // SIGTERM: the handler's own safety net (proc.ts) stops its processes before it exits
  process.once('exit', () => {
    for (const p of running) {
      try {
        process.kill(p, 'SIGTERM');
      } catch {
        /* gone */
      }
    }
  });
}

export const launchInHandler: LaunchCapture = (spec, log) =>
  new Promise<Capture>((resolve, reject) => {
    // its own process group: a Ctrl-C of the server's terminal reaches the server, which stops jobs in order
    const child = spawn(process.execPath, [HANDLER_SCRIPT], { stdio: ['pipe', 'pipe', 'pipe'], detached: true });
    const pid = child.pid!;
    endWithThisProcess(pid);
    child.once('exit', () => running.delete(pid));
    const send = messageWriter<ToHandler>(child.stdin);
    const stderr = new LineRing(20);
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => stderr.push(chunk));
    let processes: JobProcesses = { encoders: [], others: [] };
    const restarts: EncoderRestart[] = [];
    let tempDirs: string[] = [];
    let launched = false;
    let result: CaptureResult | null = null;
    let reportCrash!: (reason: string) => void;
    const crashed = new Promise<string>((res) => (reportCrash = res));
    let reportFirstFrame!: (at: Date) => void;
    const firstFrame = new Promise<Date>((res) => (reportFirstFrame = res));
    const exited = new Promise<void>((res) => child.once('exit', () => res()));
    trackReportedProcesses(pid, [{ name: 'recorder-handler', pid }]);

    let stopping: Promise<CaptureResult> | null = null;
    const capture: Capture = {
      firstFrame,
      crashed,
      async pause() {
        send({ type: 'pause' });
      },
      async resume() {
        send({ type: 'resume' });
      },
      processes: () => processes,
      restarts: () => restarts,
      stop() {
        stopping ??= (async () => {
          send({ type: 'stop' });
          const timer = setTimeout(() => child.kill('SIGKILL'), STOP_TIMEOUT_MS);
          await exited;
          clearTimeout(timer);
          // a handler that died without finishing left its processes running and their directories: clear them here
          if (!result) {
            await stopProcesses(processes);
            for (const d of tempDirs) rmSync(d, { recursive: true, force: true });
          }
          forgetReportedProcesses(pid);
          return result ?? { files: [], graceful: false };
        })();
        return stopping;
      },
    };

    void readMessages<FromHandler>(child.stdout, (m) => {
      if (m.type === 'log') relog(log, m.line, pid);
      else if (m.type === 'progress') {
        processes = m.processes;
        tempDirs = m.tempDirs;
        trackReportedProcesses(pid, [{ name: 'recorder-handler', pid }, ...m.owned]);
        if (!launched) {
          launched = true;
          resolve(capture);
        }
      } else if (m.type === 'started') reportFirstFrame(new Date(m.at));
      else if (m.type === 'restarted') restarts.push(m.restart);
      else if (m.type === 'crashed') reportCrash(m.reason);
      else if (m.type === 'finished') {
        result = { files: m.files, graceful: m.graceful };
        if (!launched) reject(new Error(m.error ?? 'the recorder handler ended before the capture started'));
      }
    });
    child.once('exit', (code, signal) => {
      if (result) {
        forgetReportedProcesses(pid);
        return;
      }
      // a Node crash ends with its stack and version: the error line above them says why
      const reason = describeExit('recorder handler', { code, signal }, stderr.text().split('\n').filter((l) => !/^\s+at |^Node\.js v/.test(l)));
      if (launched) reportCrash(reason);
      else {
        forgetReportedProcesses(pid);
        reject(new Error(reason));
      }
    });
    send({ type: 'start', spec, logLevel: log.level });
  });
