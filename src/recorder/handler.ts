// A job's handler process (`node dist/src/recorder/handler.js`): runs one capture (recorder/beam.ts) for the
// worker that spawned it, spoken to over recorder/channel.ts on stdin/stdout. A Chromium or ffmpeg crash, a
// leak or an out-of-memory kill here cannot touch the server, the SFU or another job. If the server goes
// away, the capture goes on (its processes are in the job's processes.json): the job's takeover ends it.
// Timed metadata sent to it is recorded in the capture's work directory (recorder/metadataFile.ts).
import { mkdirSync } from 'node:fs';
import pino from 'pino';
import { loggerOptions, type Logger } from '../logger.js';
import { launchBeam } from './beam.js';
import { liveProcesses, trackedTempDirs } from './proc.js';
import { readMessages, messageWriter, type FromHandler, type ToHandler } from './channel.js';
import type { Capture, CaptureSpec } from './jobSpec.js';
import { appendMetadata, type MetadataEntry } from './metadataFile.js';

const PROCESS_POLL_MS = 500;
const send = messageWriter<FromHandler>(process.stdout);
let capture: Capture | null = null;
let started = false;
let stopRequested = false;
let serverGone = false;
let stopping: Promise<void> | null = null;
let pollTimer: NodeJS.Timeout | null = null;
let handlerLog: Logger | null = null;
/** the capture's work directory, known from the start message; metadata sent before it waits here */
let workDir: string | null = null;
const heldMetadata: MetadataEntry[] = [];

function exitSoon(): void {
  // stdout is a pipe: let the last message out before leaving
  process.stdout.write('', () => process.exit(0));
}

function stopAndExit(): Promise<void> {
  stopping ??= (async () => {
    if (pollTimer) clearInterval(pollTimer);
    const result = capture ? await capture.stop() : { files: [], graceful: false };
    reportRestarts();
    send({ type: 'finished', ...result });
    exitSoon();
  })();
  return stopping;
}

/** Tells the worker which processes the capture runs now, when that changed. */
function reportProcesses(last: { key: string }): void {
  if (!capture) return;
  const processes = capture.processes();
  const owned = liveProcesses();
  const tempDirs = trackedTempDirs();
  const key = JSON.stringify([processes, owned, tempDirs]);
  if (key === last.key) return;
  last.key = key;
  send({ type: 'progress', processes, owned, tempDirs });
}

/** Tells the worker of encoder restarts it has not heard of. */
let restartsSent = 0;
function reportRestarts(): void {
  const all = capture?.restarts?.() ?? [];
  for (; restartsSent < all.length; restartsSent++) send({ type: 'restarted', restart: all[restartsSent] });
}

/** Writes the metadata received so far into the work directory, once it is known. */
function recordMetadata(): void {
  if (!workDir || heldMetadata.length === 0) return;
  const entries = heldMetadata.splice(0);
  try {
    mkdirSync(workDir, { recursive: true });
    appendMetadata(workDir, entries);
  } catch (err) {
    // a record of the capture, not the capture: it goes on without it
    handlerLog?.warn({ err, entries: entries.length }, 'could not record timed metadata in the work directory');
  }
}

async function start(spec: CaptureSpec, logLevel: string): Promise<void> {
  const log = pino(loggerOptions(logLevel), { write: (line: string) => send({ type: 'log', line: line.trimEnd() }) });
  handlerLog = log;
  workDir = spec.workDir;
  recordMetadata();
  try {
    capture = await launchBeam(spec, log);
  } catch (err) {
    send({ type: 'finished', files: [], graceful: false, error: err instanceof Error ? err.message : String(err) });
    exitSoon();
    return;
  }
  const last = { key: '' };
  reportProcesses(last);
  pollTimer = setInterval(() => {
    reportProcesses(last);
    reportRestarts();
  }, PROCESS_POLL_MS);
  // a stop before the first frame rejects it: that is no crash of this process
  capture.firstFrame.then((at) => send({ type: 'started', at: at.toISOString() })).catch(() => undefined);
  void capture.crashed.then((reason) => {
    send({ type: 'crashed', reason });
    // the worker answers with a stop; without a worker (it died) the capture ends here
    if (serverGone) void stopAndExit();
  });
  if (stopRequested) await stopAndExit();
}

// pause, resume and stop run one after the other, in the order they came
let inOrder: Promise<unknown> = Promise.resolve();
const then = (step: () => Promise<unknown> | undefined) => {
  inOrder = inOrder.then(step).catch(() => undefined);
};

void readMessages<ToHandler>(process.stdin, (m) => {
  if (m.type === 'start' && !started) {
    started = true;
    void start(m.spec, m.logLevel);
  } else if (m.type === 'stop') {
    stopRequested = true;
    if (capture) then(stopAndExit);
  } else if (m.type === 'pause') {
    then(() => capture?.pause());
  } else if (m.type === 'resume') {
    then(() => capture?.resume());
  } else if (m.type === 'metadata' && typeof m.payload === 'string') {
    heldMetadata.push({ payload: m.payload, received_at: new Date().toISOString() });
    recordMetadata();
  }
}).then(() => {
  serverGone = true;
  if (!started) process.exit(0);
});
