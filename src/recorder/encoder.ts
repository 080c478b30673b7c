// The one place that knows ffmpeg's command line for capture: x11grab (the job's Xvfb) + pulse (the job's
// null-sink monitor) → libx264 + AAC, written either as a fragmented MP4 (playable up to the last complete
// fragment even if ffmpeg is SIGKILLed) or as an HLS ladder (one ffmpeg, N renditions, aligned keyframes).
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from '../logger.js';
import { AUDIO_KBPS, MP4_VIDEO_MAX_KBPS } from '../domain/recordingJob.js';
import { spawnOwned, LineRing, type ExitInfo, type OwnedProcess } from './proc.js';

export const FFMPEG_PATH = 'ffmpeg';

export type X264Preset = 'ultrafast' | 'superfast' | 'veryfast' | 'faster' | 'fast' | 'medium' | 'slow' | 'slower' | 'veryslow';

export interface Mp4Output {
  kind: 'mp4';
  path: string;
  /** constant-quality target (default 23), capped by maxBitrateKbps */
  crf?: number;
  /** VBV cap (default 4000 kbit/s at 720p) */
  maxBitrateKbps?: number;
}

export interface HlsLayer {
  name: string;
  width: number;
  height: number;
  videoBitrateKbps: number;
}

export interface HlsOutput {
  kind: 'hls';
  /** directory that receives master.m3u8 and one sub-directory per layer */
  dir: string;
  layers: HlsLayer[];
  segmentSeconds?: number;
  /**
   * 'live': sliding window of `listSize` segments, older segments deleted unless keepSegments.
   * 'event': the playlists keep every segment and get #EXT-X-ENDLIST on a graceful stop (plays as VOD after).
   */
  playlist: 'live' | 'event';
  listSize?: number;
  /** live only: keep segment files on disk after they leave the playlist (for a later VOD) */
  keepSegments?: boolean;
  segmentType?: 'mpegts' | 'fmp4';
  /**
   * event only: go on with the playlists already in `dir` (a relaunch, or a takeover that restored them): the
   * numbering continues and the first new segment is marked EXT-X-DISCONTINUITY, so players keep going
   */
  append?: boolean;
}

export interface EncoderOptions {
  /** X display to grab, e.g. ":99" */
  display: string;
  size: { width: number; height: number };
  fps?: number;
  /** pulse source (the sink monitor); null records no audio */
  audioSource: string | null;
  /** false: audio only (no x11grab; MP4 output only). Default true. */
  video?: boolean;
  /** PULSE_SERVER for ffmpeg (the job's private daemon) */
  pulseServer?: string;
  /**
   * Moves the audio this many ms later (negative: earlier) against the picture: this machine's constant
   * difference between the sound path (Chromium → PulseAudio → ffmpeg) and the picture path (compositor →
   * Xvfb → x11grab), as recorder/calibration.ts measures it. Default 0.
   */
  audioOffsetMs?: number;
  preset?: X264Preset;
  audioBitrateKbps?: number;
  output: Mp4Output | HlsOutput;
  logger: Logger;
  ffmpegPath?: string;
  /** ffmpeg exited without stop() */
  onExit?: (exit: EncoderExit) => void;
}

export interface EncoderProgress {
  frame: number;
  fps: number;
  outTimeMs: number;
  totalSize: number;
  speed: number | null;
  dupFrames: number;
  dropFrames: number;
}

export interface EncoderExit extends ExitInfo {
  /** ended by 'q' (or SIGINT) with its trailer written */
  graceful: boolean;
  /** stop() had to escalate to a signal */
  escalated: NodeJS.Signals | null;
  stderrTail: string;
  /** stderr lines written after the first frame: what it said while running (start-up warnings left out) */
  runtimeLines: string[];
  progress: EncoderProgress;
}

export interface Encoder {
  pid: number;
  /** ms after spawn when ffmpeg reported its first encoded frame (audio-only: first audio); rejects if it exits first */
  firstFrame: Promise<number>;
  progress(): EncoderProgress;
  stderrTail(): string;
  onExit(listener: (exit: EncoderExit) => void): () => void;
  /** 'q' on stdin, then SIGINT, then SIGKILL; idempotent. */
  /** `drainTimeoutMs`: how long an encoder that fell behind may take to reach the stop instant (default 5 s) */
  stop(opts?: StopOptions): Promise<EncoderExit>;
}

const GOP_SECONDS = 2;

/** The full ffmpeg argument list; pure, so the command line can be read and tested without running it. */
export function buildFfmpegArgs(opts: Omit<EncoderOptions, 'logger' | 'onExit'>): string[] {
  const fps = opts.fps ?? 30;
  const { width, height } = opts.size;
  // one keyframe per MP4 fragment / per HLS segment: an HLS segment is exactly one GOP long
  const gopSeconds = opts.output.kind === 'hls' ? (opts.output.segmentSeconds ?? GOP_SECONDS) : GOP_SECONDS;
  const gop = Math.max(1, Math.round(fps * gopSeconds));
  const args = ['-hide_banner', '-loglevel', 'warning', '-nostats', '-progress', 'pipe:1', '-stats_period', '0.1'];
  const video = opts.video ?? true;
  const audio = opts.audioSource !== null;
  if (!video && !audio) throw new Error('an encoder needs video, audio or both');
  if (!video && opts.output.kind !== 'mp4') throw new Error('audio-only capture writes MP4 only');
  // inputs: big thread queues so a slow encoder step never stalls the grabbers (pulse would drop audio)
  if (video) {
    args.push('-thread_queue_size', '1024', '-f', 'x11grab', '-draw_mouse', '0', '-framerate', String(fps));
    args.push('-video_size', `${width}x${height}`, '-i', `${opts.display}.0+0,0`);
  }
  const a = video ? 1 : 0; // input index of the audio
  if (audio) {
    // small capture fragments (20 ms): with PulseAudio's default buffering the first audio arrives ~2 s late,
    // and the muxer holds every video frame until it has audio to interleave (measured: 2.0 s → 0.15 s)
    args.push('-thread_queue_size', '1024', '-f', 'pulse', '-sample_rate', '48000', '-channels', '2', '-fragment_size', '3840');
    if (opts.pulseServer) args.push('-server', opts.pulseServer);
    // ffmpeg starts each input at its own first packet; pulse opens after x11grab, so the sound lands a
    // little early (about 90 ms here): recorder/calibration.ts measures that on each machine, and it comes
    // back here as audioOffsetMs. (Keeping both captures' wall-clock stamps with -copyts looked cleaner, but
    // under load pulse stamps its first packet up to 1.6 s early, and that gap then went into the file.)
    const offsetMs = Math.round(opts.audioOffsetMs ?? 0);
    if (offsetMs !== 0) args.push('-itsoffset', (offsetMs / 1000).toFixed(3));
    args.push('-name', 'roomcast-recorder', '-i', opts.audioSource as string);
  }
  const x264 = [
    '-preset', opts.preset ?? 'ultrafast',
    '-pix_fmt', 'yuv420p',
    // fixed GOP, no scene-cut keyframes: fragments and HLS segments line up across renditions
    '-g', String(gop), '-keyint_min', String(gop), '-sc_threshold', '0',
  ];
  // Audio follows its capture timestamps (the wall clock, like x11grab's frames), not the sample count: a sound
  // card clock a little off, or samples lost while ffmpeg was starved, would otherwise move the sound away
  // from the picture over hours. Up to 1 ms per second is stretched; gaps over 100 ms are filled or cut.
  // first_pts=0 starts the audio at the picture's start (silence first, or the early part cut).
  const aac = ['-af', 'aresample=async=48:min_hard_comp=0.1:first_pts=0', '-c:a', 'aac', '-b:a', `${opts.audioBitrateKbps ?? AUDIO_KBPS}k`, '-ar', '48000', '-ac', '2'];
  // constant frame rate: a stalled grab is filled by duplicates, so duration follows the wall clock
  const cfr = ['-fps_mode', 'cfr', '-r', String(fps)];

  const out = opts.output;
  // yuv420p halves chroma in both directions: every encoded size must be even
  const sizes = [opts.size, ...(out.kind === 'hls' ? out.layers : [])];
  if (video && sizes.some((s) => s.width % 2 !== 0 || s.height % 2 !== 0 || s.width < 16 || s.height < 16)) {
    throw new Error(`encoded sizes must be even and at least 16x16: ${sizes.map((s) => `${s.width}x${s.height}`).join(', ')}`);
  }
  if (out.kind === 'mp4') {
    const max = out.maxBitrateKbps ?? MP4_VIDEO_MAX_KBPS;
    if (video) {
      args.push('-map', '0:v:0', ...cfr, '-c:v', 'libx264', ...x264, '-crf', String(out.crf ?? 23), '-maxrate', `${max}k`, '-bufsize', `${max * 2}k`);
    }
    if (audio) args.push('-map', `${a}:a:0`);
    if (audio) args.push(...aac);
    // empty moov + a fragment per keyframe or per second, whichever comes first: everything before the fragment
    // being built is playable whatever happens to ffmpeg, and a recording streamed to its store while it records
    // (streamedParts.ts) loses at most that second when its machine dies; flush_packets writes each out at once
    args.push('-movflags', '+frag_keyframe+empty_moov+default_base_moof', '-frag_duration', '1000000', '-flush_packets', '1', '-f', 'mp4', '-y', out.path);
    return args;
  }

  const layers = out.layers;
  if (layers.length === 0) throw new Error('an HLS output needs at least one layer');
  const seg = gopSeconds;
  const chains = layers.map((l, i) =>
    l.width === width && l.height === height ? `[s${i}]null[v${i}]` : `[s${i}]scale=${l.width}:${l.height}:flags=bilinear[v${i}]`,
  );
  const split = `[0:v]split=${layers.length}${layers.map((_, i) => `[s${i}]`).join('')}`;
  args.push('-filter_complex', [split, ...chains].join(';'));
  layers.forEach((_, i) => args.push('-map', `[v${i}]`));
  if (audio) layers.forEach(() => args.push('-map', `${a}:a:0`));
  args.push(...cfr, '-c:v', 'libx264', ...x264);
  layers.forEach((l, i) => {
    args.push(`-b:v:${i}`, `${l.videoBitrateKbps}k`, `-maxrate:v:${i}`, `${Math.round(l.videoBitrateKbps * 1.1)}k`, `-bufsize:v:${i}`, `${l.videoBitrateKbps * 2}k`);
  });
  if (audio) args.push(...aac);
  const flags = ['independent_segments', 'temp_file', 'program_date_time'];
  if (out.playlist === 'live' && !out.keepSegments) flags.push('delete_segments');
  if (out.playlist === 'event' && out.append) flags.push('append_list');
  args.push('-f', 'hls', '-hls_time', String(seg), '-hls_segment_type', out.segmentType ?? 'mpegts');
  if (out.playlist === 'event') args.push('-hls_playlist_type', 'event', '-hls_list_size', '0');
  else args.push('-hls_list_size', String(out.listSize ?? 6));
  args.push('-hls_flags', flags.join('+'));
  const ext = (out.segmentType ?? 'mpegts') === 'fmp4' ? 'm4s' : 'ts';
  if (out.segmentType === 'fmp4') args.push('-hls_fmp4_init_filename', 'init.mp4');
  args.push('-master_pl_name', 'master.m3u8');
  args.push('-var_stream_map', layers.map((l, i) => (audio ? `v:${i},a:${i},name:${l.name}` : `v:${i},name:${l.name}`)).join(' '));
  args.push('-hls_segment_filename', join(out.dir, '%v', `seg_%05d.${ext}`), '-y', join(out.dir, '%v', 'index.m3u8'));
  return args;
}

type StopOptions = { drainTimeoutMs?: number; quitTimeoutMs?: number; interruptTimeoutMs?: number };

export function startEncoder(opts: EncoderOptions): Encoder {
  const { logger } = opts;
  if (opts.output.kind === 'hls') {
    for (const l of opts.output.layers) mkdirSync(join(opts.output.dir, l.name), { recursive: true });
  }
  const args = buildFfmpegArgs(opts);
  const videoOn = opts.video ?? true;
  const env = { ...process.env };
  if (opts.pulseServer) env.PULSE_SERVER = opts.pulseServer;
  if (videoOn) env.DISPLAY = opts.display;

  let progress: EncoderProgress = { frame: 0, fps: 0, outTimeMs: 0, totalSize: 0, speed: null, dupFrames: 0, dropFrames: 0 };
  let resolveFirst!: (ms: number) => void;
  let rejectFirst!: (err: Error) => void;
  const firstFrame = new Promise<number>((res, rej) => {
    resolveFirst = res;
    rejectFirst = rej;
  });
  firstFrame.catch(() => {}); // callers may never await it
  let gotFirst = false;
  // wall-clock ms of the output's time 0: the earliest (now − out_time) seen, as reports only ever come late
  let originMs = Number.POSITIVE_INFINITY;
  const runtimeLines = new LineRing(10);

  const proc: OwnedProcess = spawnOwned({
    name: 'ffmpeg',
    command: opts.ffmpegPath ?? FFMPEG_PATH,
    args,
    env,
    logger,
    stdin: 'pipe',
    stdout: 'pipe',
    stderrLines: 60,
    onStderrLine: (line) => {
      logger.debug({ ffmpeg: line });
      if (gotFirst) runtimeLines.push(`${line}\n`);
    },
  });

  // -progress pipe:1 → blocks of key=value lines, each ending with progress=continue|end
  const block: Record<string, string> = {};
  const progressLines = new LineRing(1);
  proc.child.stdout?.setEncoding('utf8');
  proc.child.stdout?.on('data', (chunk: string) =>
    progressLines.push(chunk, (line) => {
      const eq = line.indexOf('=');
      if (eq < 0) return;
      const key = line.slice(0, eq).trim();
      const value = line.slice(eq + 1).trim();
      block[key] = value;
      if (key !== 'progress') return;
      progress = {
        frame: int(block.frame),
        fps: Number(block.fps) || 0,
        outTimeMs: Math.round(int(block.out_time_us ?? block.out_time_ms) / 1000),
        totalSize: int(block.total_size),
        speed: block.speed && block.speed !== 'N/A' ? Number.parseFloat(block.speed) : null,
        dupFrames: int(block.dup_frames),
        dropFrames: int(block.drop_frames),
      };
      if (progress.outTimeMs > 0) originMs = Math.min(originMs, Date.now() - progress.outTimeMs);
      // audio-only has no frame count: the first encoded audio moves out_time
      if (!gotFirst && (videoOn ? progress.frame > 0 : progress.outTimeMs > 0)) {
        gotFirst = true;
        originMs = Math.min(originMs, Date.now()); // until the muxer's first output moves out_time
        const ms = Date.now() - proc.startedAt;
        logger.info({ pid: proc.pid, ms }, 'encoder produced its first frame');
        resolveFirst(ms);
      }
    }),
  );

  let escalated: NodeJS.Signals | null = null;
  let stopRequested = false;
  let stopping: Promise<EncoderExit> | null = null;
  const listeners = new Set<(e: EncoderExit) => void>();
  if (opts.onExit) listeners.add(opts.onExit);
  const exitResult = proc.exited.then((info): EncoderExit => {
    const graceful = info.code === 0 || (info.code === 255 && escalated === 'SIGINT');
    const lines = runtimeLines.text();
    return { ...info, graceful, escalated, stderrTail: proc.stderrTail(), runtimeLines: lines ? lines.split('\n') : [], progress };
  });
  void exitResult.then((exit) => {
    if (!gotFirst) rejectFirst(new Error(`ffmpeg exited before its first frame (${exit.signal ?? exit.code}): ${exit.stderrTail.slice(-1500)}`));
    if (stopRequested) return;
    logger.error({ code: exit.code, signal: exit.signal, stderr: exit.stderrTail.slice(-2000) }, 'encoder exited unexpectedly');
    for (const l of listeners) l(exit);
  });

  return {
    pid: proc.pid,
    firstFrame,
    progress: () => progress,
    stderrTail: () => proc.stderrTail(),
    onExit(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    stop(stopOpts = {}) {
      stopping ??= stopNow(stopOpts);
      return stopping;
    },
  };

  /**
   * x11grab and pulse stamp what they capture with the wall clock, so an encoder that fell behind (a loaded
   * machine) still holds the last moments in its input queues, and 'q' drops them: wait until its output
   * reaches the stop instant, or the timeout.
   */
  async function drained(stopAt: number, timeoutMs: number): Promise<void> {
    if (!gotFirst) return;
    const target = stopAt - originMs - 100;
    const behindMs = Math.round(target - progress.outTimeMs);
    if (behindMs <= 0) return;
    const until = Date.now() + timeoutMs;
    while (progress.outTimeMs < target && Date.now() < until && proc.child.exitCode === null && proc.child.signalCode === null) await sleep(50);
    logger.info({ pid: proc.pid, behindMs, leftMs: Math.max(0, Math.round(target - progress.outTimeMs)) }, 'encoder was behind the stop: drained');
  }

  async function stopNow(stopOpts: StopOptions): Promise<EncoderExit> {
    stopRequested = true;
    await drained(Date.now(), stopOpts.drainTimeoutMs ?? 5000);
    await proc.stop([
      {
        // 'q' lets ffmpeg drain the encoder and write the trailer (HLS: #EXT-X-ENDLIST)
        action: (p) => {
          p.child.stdin?.end('q');
        },
        waitMs: stopOpts.quitTimeoutMs ?? 10_000,
      },
      {
        action: (p) => {
          escalated = 'SIGINT';
          p.signal('SIGINT');
        },
        waitMs: stopOpts.interruptTimeoutMs ?? 5000,
      },
      {
        action: (p) => {
          escalated = 'SIGKILL';
          p.signal('SIGKILL');
        },
        waitMs: 5000,
      },
    ]);
    const exit = await exitResult;
    logger.info({ code: exit.code, signal: exit.signal, graceful: exit.graceful, frames: exit.progress.frame }, 'encoder stopped');
    return exit;
  }
}

function int(v: string | undefined): number {
  const n = Number.parseInt(v ?? '', 10);
  return Number.isFinite(n) ? n : 0;
}
