// The capture of one egress job: the recorder's stage (Xvfb + PulseAudio, headful Chromium on the meeting
// page, joined) filmed by one ffmpeg writing the job's encoded output (outputs/: MP4 segments or the HLS
// ladder). For an MP4 a pause ends the current segment and a resume starts the next one on the same stage;
// so does an encoder that died mid-way, while the spec allows restarts (the worker counts them as relaunches).
import { mkdirSync } from 'node:fs';
import { openStage } from './stage.js';
import { startEncoder, type Encoder, type EncoderExit } from './encoder.js';
import { describeExit } from './proc.js';
import { isDiskFullText } from '../storage/diskSpace.js';
import { encoderOutputOf, pausesEncoder } from './outputs/index.js';
import type { Capture, EncoderRestart, LaunchCapture } from './jobSpec.js';

export const launchBeam: LaunchCapture = async (spec, log) => {
  const { size } = spec;
  mkdirSync(spec.workDir, { recursive: true });
  const stage = await openStage({ url: spec.url, size, allowedHosts: spec.allowedHosts, joinTimeoutMs: spec.joinTimeoutMs, log });
  const files: string[] = [];
  let encoder: Encoder | null = null;
  let graceful = false;
  let paused = false;
  const restarts: EncoderRestart[] = [];
  let restartsLeft = spec.output.kind === 'mp4File' ? (spec.encoderRestarts ?? 0) : 0;
  let stageCrashed = false;
  void stage.crashed.then(() => (stageCrashed = true));

  const startSegment = (): Encoder => {
    const output = encoderOutputOf(spec.output, spec.workDir, files.length);
    if (output.kind === 'mp4') files.push(output.path);
    return startEncoder({
      display: stage.display.display,
      size,
      fps: spec.fps,
      video: !spec.audioOnly,
      audioSource: stage.display.monitorSource,
      pulseServer: stage.display.pulseServer,
      audioOffsetMs: spec.audioOffsetMs,
      preset: 'ultrafast',
      ...(spec.output.kind === 'hlsLive' ? { audioBitrateKbps: spec.output.audioBitrateKbps } : {}),
      output,
      logger: log,
      onExit: (e) => encoderDied(e),
    });
  };
  /**
   * An encoder that was recording and died on its own is started again on the same stage, into the next
   * segment (a gap of a second or two), while restarts are left; otherwise (or when the disk is full) the
   * capture crashed.
   */
  const encoderDied = (e: EncoderExit) => {
    const reason = describeExit('ffmpeg', e, e.runtimeLines);
    const crashedAt = Date.now();
    const recorded = e.progress.frame > 0 || e.progress.outTimeMs > 0;
    // Xvfb or PulseAudio dying takes the encoder along: their exit is given a moment to be seen first
    setTimeout(() => {
      if (stopping || paused) return;
      // a full disk is not a crash to recover from: the worker ends the job for it (DISK_FULL)
      if (stageCrashed || !recorded || restartsLeft <= 0 || isDiskFullText(reason)) {
        stage.reportCrash(reason);
        return;
      }
      restartsLeft--;
      const segment = files.length;
      log.warn({ reason, restartsLeft }, 'the encoder died; starting it again');
      const next = startSegment();
      encoder = next;
      next.firstFrame.then(() => restarts.push({ segment, crashedAt, resumedAt: Date.now(), reason })).catch(() => undefined);
    }, 300);
  };
  const stopEncoder = async () => {
    const e = encoder;
    encoder = null;
    const exit = await e?.stop().catch(() => null);
    graceful = !!exit?.graceful;
  };

  try {
    encoder = startSegment();
  } catch (err) {
    await stage.close();
    throw err;
  }
  const firstFrame = encoder.firstFrame.then(() => new Date());
  firstFrame.catch(() => undefined);
  let stopping: ReturnType<Capture['stop']> | null = null;

  return {
    firstFrame,
    crashed: stage.crashed,
    async pause() {
      paused = true;
      if (pausesEncoder(spec.output)) await stopEncoder();
    },
    async resume() {
      paused = false;
      if (!encoder) encoder = startSegment();
    },
    restarts: () => restarts,
    processes() {
      const { xvfb, pulse } = stage.display.pids;
      return { encoders: encoder ? [encoder.pid] : [], others: [stage.browser.pid, xvfb, pulse] };
    },
    stop() {
      stopping ??= (async () => {
        await stopEncoder();
        await stage.close();
        return { files, graceful };
      })();
      return stopping;
    },
  };
};
