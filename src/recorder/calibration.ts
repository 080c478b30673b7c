// The recorder's own capture offset: how much earlier (or later) a sound lands in the encoded file than a
// picture shown at the same instant, through this machine's two capture paths (Chromium → PulseAudio → ffmpeg
// pulse; Chromium's compositor → Xvfb → ffmpeg x11grab). Measured by filming a built-in page that flashes and
// beeps on the same wall-clock instants through the recorder's real stage and encoder, once per machine
// (cached by host, Chromium and ffmpeg versions); every job's encoder then moves its audio by the opposite.
import { execFile } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Logger } from '../logger.js';
import { openStage, type Stage } from './stage.js';
import { startEncoder, FFMPEG_PATH, type Encoder } from './encoder.js';
import { CHROMIUM_PATH } from './browser.js';
import { measureMedia, PULSE_S, SYNC_PERIOD_S } from './syncMeter.js';
import { recordJobProcesses, stopLeftoverProcesses } from './leftovers.js';

export interface CaptureCalibration {
  /** what the encoder applies: audio moved this many ms later (the measured offset, negated) */
  audioOffsetMs: number;
  /** audio − video in the uncorrected test film: median and 95th percentile of the deviation */
  measuredMs: number;
  spreadMs: number;
  pairs: number;
  /** host, browser and encoder the figure belongs to */
  key: string;
  at: string;
}

const SIZE = { width: 1280, height: 720 };
const FILM_SECONDS = 11;
/** a film whose pairs disagree more than this was made on a starved machine: not trusted */
const MAX_SPREAD_MS = 40;
const MIN_PAIRS = 3;

// The test pattern, on the wall clock: white for PULSE_S of every SYNC_PERIOD_S (drawn each animation frame)
// and a 1 kHz beep scheduled on the audio clock at the same instants.
const PAGE = `<!doctype html><meta charset="utf-8"><title>roomcast capture calibration</title>
<body style="margin:0;background:#202020;overflow:hidden"><canvas id="c"></canvas><script>
const PERIOD = ${SYNC_PERIOD_S * 1000}, PULSE = ${PULSE_S * 1000};
const c = document.getElementById('c'); c.width = innerWidth; c.height = innerHeight;
const g = c.getContext('2d');
(function paint() { g.fillStyle = Date.now() % PERIOD < PULSE ? '#ffffff' : '#202020'; g.fillRect(0, 0, c.width, c.height); requestAnimationFrame(paint); })();
const ac = new AudioContext({ sampleRate: 48000 });
const osc = ac.createOscillator(); osc.frequency.value = 1000;
const gain = ac.createGain(); gain.gain.value = 0;
osc.connect(gain).connect(ac.destination); osc.start();
let next = 0;
function schedule() {
  const wall = Date.now(), now = ac.currentTime;
  for (let k = Math.ceil((wall + 50) / PERIOD); k * PERIOD < wall + 1500; k++) {
    if (k <= next) continue;
    const t = now + (k * PERIOD - wall) / 1000;
    gain.gain.setValueAtTime(0.125, t); gain.gain.setValueAtTime(0, t + PULSE / 1000);
    next = k;
  }
}
ac.resume().then(() => { schedule(); setInterval(schedule, 250); document.body.dataset.joined = 'true'; document.body.dataset.mediaReady = 'true'; });
</script>`;

function firstLine(cmd: string, args: string[]): Promise<string> {
  return new Promise((resolve) => {
    execFile(cmd, args, { timeout: 10_000 }, (err, stdout) => resolve(err ? 'unknown' : stdout.split('\n')[0].trim()));
  });
}

/** Where a data directory keeps this machine's figure. */
export const calibrationFile = (dataDir: string): string => join(dataDir, 'capture-calibration.json');
/** Where a server films its calibration: its processes are listed there, for the next start to stop if it was killed. */
export const calibrationWorkDir = (dataDir: string): string => join(dataDir, 'work', 'calibration');

/** What a calibration is valid for: a new browser or encoder build, or another host, measures again. */
export async function calibrationKey(): Promise<string> {
  const [chromium, ffmpeg] = await Promise.all([firstLine(CHROMIUM_PATH, ['--version']), firstLine(FFMPEG_PATH, ['-version'])]);
  return `${hostname()} | ${chromium} | ${ffmpeg.replace(/ Copyright.*/, '')}`;
}

/** The cached calibration if it belongs to `key`. */
export function readCalibration(file: string, key: string): CaptureCalibration | null {
  try {
    const c = JSON.parse(readFileSync(file, 'utf8')) as CaptureCalibration;
    return c.key === key && Number.isFinite(c.audioOffsetMs) ? c : null;
  } catch {
    return null;
  }
}

/** Films the calibration page through a real stage and encoder and measures the offset. */
export async function measureCaptureOffset(opts: { logger: Logger; key: string; seconds?: number; cancelled?: () => boolean; workDir?: string }): Promise<CaptureCalibration> {
  const server: Server = createServer((_, res) => res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(PAGE));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const addr = server.address();
  const host = `127.0.0.1:${typeof addr === 'object' && addr ? addr.port : 0}`;
  const dir = await freshWorkDir(opts.workDir, opts.logger);
  let stage: Stage | null = null;
  let encoder: Encoder | null = null;
  const listProcesses = (): void => {
    if (!opts.workDir || !stage) return;
    const { xvfb, pulse } = stage.display.pids;
    recordJobProcesses(dir, { encoders: encoder ? [encoder.pid] : [], others: [stage.browser.pid, xvfb, pulse] });
  };
  try {
    stage = await openStage({ url: `http://${host}/`, size: SIZE, allowedHosts: [host], joinTimeoutMs: 20_000, log: opts.logger });
    listProcesses();
    const file = join(dir, 'calibration.mp4');
    encoder = startEncoder({
      display: stage.display.display,
      size: SIZE,
      audioSource: stage.display.monitorSource,
      pulseServer: stage.display.pulseServer,
      audioOffsetMs: 0,
      output: { kind: 'mp4', path: file },
      logger: opts.logger,
    });
    listProcesses();
    await encoder.firstFrame;
    const until = Date.now() + (opts.seconds ?? FILM_SECONDS) * 1000;
    while (Date.now() < until && !opts.cancelled?.()) await new Promise((r) => setTimeout(r, 200));
    if (opts.cancelled?.()) throw new Error('calibration cancelled');
    const exit = await encoder.stop();
    if (!exit.graceful) throw new Error(`the calibration film did not finish: ${exit.stderrTail.slice(-300)}`);
    const m = await measureMedia(file);
    return { audioOffsetMs: -Math.round(m.median_ms) || 0, measuredMs: m.median_ms, spreadMs: m.p95_spread_ms, pairs: m.pairs, key: opts.key, at: new Date().toISOString() };
  } finally {
    await encoder?.stop().catch(() => undefined);
    await stage?.close().catch(() => undefined);
    server.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * The calibration's work dir: a given one (the server's) is first cleared of what a killed server left running
 * in it (SIGKILL leaves no exit handler to stop Xvfb, PulseAudio, Chromium and ffmpeg); else a temporary one.
 */
async function freshWorkDir(workDir: string | undefined, logger: Logger): Promise<string> {
  if (!workDir) return mkdtempSync(join(tmpdir(), 'roomcast-calibration-'));
  const left = await stopLeftoverProcesses(workDir);
  if (left.processes > 0) logger.warn({ processes: left.processes }, 'stopped what a killed server left of its capture calibration');
  rmSync(workDir, { recursive: true, force: true });
  mkdirSync(workDir, { recursive: true });
  return workDir;
}

/**
 * This machine's capture offset for the recorder's jobs: a fixed RECORDER_AUDIO_OFFSET_MS, else the cached
 * calibration, else one measured in the background when the recorder starts (jobs that start before it is
 * known use 0). A film that is too noisy to trust (a busy machine) is measured once more a minute later.
 */
export class CaptureCalibrator {
  private value: CaptureCalibration | null = null;
  private closed = false;
  private running: Promise<void> | null = null;
  private wake: (() => void) | null = null;

  /** `force`: measure even if a figure for this machine is cached */
  constructor(private readonly opts: { file: string; fixedMs: number | null; logger: Logger; force?: boolean; workDir?: string }) {}

  /** ms to move each job's audio later */
  audioOffsetMs(): number {
    return this.opts.fixedMs ?? this.value?.audioOffsetMs ?? 0;
  }

  current(): CaptureCalibration | null {
    return this.value;
  }

  /** Loads the cached figure or measures one in the background; resolves when that is done. */
  start(): Promise<void> {
    if (this.opts.fixedMs !== null) return Promise.resolve();
    this.running ??= this.run(2);
    return this.running;
  }

  private async run(triesLeft: number): Promise<void> {
    const log = this.opts.logger;
    const key = await calibrationKey();
    this.value = this.opts.force ? null : readCalibration(this.opts.file, key);
    if (this.value || this.closed) return;
    try {
      const c = await measureCaptureOffset({ logger: log, key, cancelled: () => this.closed, workDir: this.opts.workDir });
      if (c.pairs < MIN_PAIRS || c.spreadMs > MAX_SPREAD_MS) throw new Error(`too noisy to trust (${c.pairs} pairs, spread ${c.spreadMs} ms)`);
      this.value = c;
      writeFileSync(this.opts.file, `${JSON.stringify(c, null, 2)}\n`);
      log.info({ audioOffsetMs: c.audioOffsetMs, spreadMs: c.spreadMs }, 'recorder capture offset measured');
    } catch (err) {
      if (this.closed) return;
      log.warn({ err: err instanceof Error ? err.message : String(err) }, 'recorder capture calibration failed');
      if (triesLeft > 1) {
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, 60_000);
          this.wake = () => {
            clearTimeout(timer);
            resolve();
          };
        });
        if (!this.closed) await this.run(triesLeft - 1);
      }
    }
  }

  /** Cancels a measurement under way (its processes stop) and waits for it. */
  async close(): Promise<void> {
    this.closed = true;
    this.wake?.();
    await this.running;
  }
}
