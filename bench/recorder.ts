// Recorder bench: records the animated test page (moving canvas + 440 Hz tone) for `seconds` at 1280x720 and
// reports how long each step took and how much CPU each process group used while recording.
// CPU comes from /proc/<pid>/stat utime+stime of every process in the group (chromium's renderers, GPU and
// audio helpers are in the browser's group), sampled when the first frame is reported and at stop.
// Run alone: `node dist/bench/recorder.js [seconds]` prints both presets.
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { createLogger, type Logger } from '../src/logger.js';
import { startDisplay, type RecorderDisplay } from '../src/recorder/display.js';
import { launchRecorderBrowser, type RecorderBrowser } from '../src/recorder/browser.js';
import { startEncoder, type Encoder, type X264Preset, type Mp4Output, type HlsOutput } from '../src/recorder/encoder.js';
import { groupCpuSeconds } from '../src/recorder/proc.js';
import { probe } from '../src/recorder/probe.js';
import { startMediaPageServer } from '../test/helpers/mediaPage.js';

export interface RecorderBenchOptions {
  seconds?: number;
  preset?: X264Preset;
  width?: number;
  height?: number;
  /** 'mp4' (default) or the 720/480/360 HLS ladder */
  output?: 'mp4' | 'hls';
  logger?: Logger;
}

export interface RecorderBenchFigures {
  preset: X264Preset;
  output: 'mp4' | 'hls';
  resolution: string;
  seconds: number;
  /** display + browser + page "joined" */
  launch_ms: number;
  /** ffmpeg spawn → first encoded frame reported */
  first_frame_ms: number;
  /** stop() → ffmpeg exited with the file complete */
  stop_to_file_ms: number;
  /** cores used while recording (1 = one full core) */
  cpu_cores: { ffmpeg: number; chromium: number; xvfb_pulse: number };
  /** encoder speed (1 = realtime) and frames it had to duplicate/drop to keep 30 fps */
  speed: number | null;
  dup_frames: number;
  drop_frames: number;
  duration_s: number;
  size_bytes: number;
}

const round = (n: number, d = 2) => Math.round(n * 10 ** d) / 10 ** d;

export async function benchRecorder(opts: RecorderBenchOptions = {}): Promise<RecorderBenchFigures> {
  const seconds = opts.seconds ?? 20;
  const preset = opts.preset ?? 'ultrafast';
  const size = { width: opts.width ?? 1280, height: opts.height ?? 720 };
  const outputKind = opts.output ?? 'mp4';
  const logger = opts.logger ?? createLogger(process.env.BENCH_LOG_LEVEL ?? 'silent');
  const pages = await startMediaPageServer();
  const dir = mkdtempSync(join(tmpdir(), 'roomcast-bench-recorder-'));
  let display: RecorderDisplay | undefined;
  let browser: RecorderBrowser | undefined;
  let enc: Encoder | undefined;
  try {
    const t0 = performance.now();
    display = await startDisplay({ ...size, logger });
    browser = await launchRecorderBrowser({ url: pages.url('/'), display, size, allowedHosts: [pages.host], logger });
    await browser.waitForSignal({ js: 'window.__roomcast?.joined === true' }, 60_000);
    const launchMs = performance.now() - t0;

    const file = join(dir, 'bench.mp4');
    const output: Mp4Output | HlsOutput =
      outputKind === 'mp4'
        ? { kind: 'mp4', path: file }
        : {
            kind: 'hls',
            dir: join(dir, 'hls'),
            playlist: 'event',
            layers: [
              { name: '720p', width: 1280, height: 720, videoBitrateKbps: 2500 },
              { name: '480p', width: 854, height: 480, videoBitrateKbps: 1200 },
              { name: '360p', width: 640, height: 360, videoBitrateKbps: 700 },
            ],
          };
    enc = startEncoder({ display: display.display, size, audioSource: display.monitorSource, pulseServer: display.pulseServer, output, preset, logger });
    const firstFrameMs = await enc.firstFrame;

    const groups = {
      ffmpeg: [enc.pid],
      chromium: [browser.pid],
      xvfb_pulse: [display.pids.xvfb, display.pids.pulse],
    };
    const cpu = () => Object.fromEntries(Object.entries(groups).map(([k, pids]) => [k, pids.reduce((s, p) => s + groupCpuSeconds(p), 0)]));
    const before = cpu();
    const w0 = performance.now();
    await new Promise((r) => setTimeout(r, seconds * 1000));
    const after = cpu();
    const wall = (performance.now() - w0) / 1000;

    const s0 = performance.now();
    const exit = await enc.stop();
    const stopMs = performance.now() - s0;
    if (!exit.graceful) throw new Error(`encoder did not stop cleanly: ${exit.stderrTail}`);
    const outFile = outputKind === 'mp4' ? file : join(dir, 'hls', '720p', 'seg_00000.ts');
    const info = outputKind === 'mp4' ? await probe(file) : null;
    return {
      preset,
      output: outputKind,
      resolution: `${size.width}x${size.height}`,
      seconds,
      launch_ms: Math.round(launchMs),
      first_frame_ms: Math.round(firstFrameMs),
      stop_to_file_ms: Math.round(stopMs),
      cpu_cores: {
        ffmpeg: round((after.ffmpeg - before.ffmpeg) / wall),
        chromium: round((after.chromium - before.chromium) / wall),
        xvfb_pulse: round((after.xvfb_pulse - before.xvfb_pulse) / wall),
      },
      speed: exit.progress.speed,
      dup_frames: exit.progress.dupFrames,
      drop_frames: exit.progress.dropFrames,
      duration_s: info ? round(info.duration) : round(exit.progress.outTimeMs / 1000),
      size_bytes: info ? info.sizeBytes : statSync(outFile).size,
    };
  } finally {
    await enc?.stop();
    await browser?.stop();
    await display?.stop();
    await pages.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const seconds = Number(process.argv[2] ?? 20);
  const results: RecorderBenchFigures[] = [];
  for (const output of ['mp4', 'hls'] as const) {
    for (const preset of ['ultrafast', 'veryfast'] as const) results.push(await benchRecorder({ seconds, preset, output }));
  }
  console.log(JSON.stringify(results, null, 2));
}
