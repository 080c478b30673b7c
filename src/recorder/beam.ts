// The capture of one egress job: the recorder's stage (Xvfb + PulseAudio, headful Chromium on the meeting
// page, joined) filmed by one ffmpeg writing the job's encoded output (outputs/: MP4 segments or the HLS
// ladder). For an MP4 a pause ends the current segment and a resume starts the next one on the same stage.
import { mkdirSync } from 'node:fs';
import { openStage } from './stage.js';
import { startEncoder, type Encoder } from './encoder.js';
import { describeExit } from './proc.js';
import { encoderOutputOf, pausesEncoder } from './outputs/index.js';
import type { Capture, LaunchCapture } from './jobSpec.js';

export const launchBeam: LaunchCapture = async (spec, log) => {
  const { size } = spec;
  mkdirSync(spec.workDir, { recursive: true });
  const stage = await openStage({ url: spec.url, size, allowedHosts: spec.allowedHosts, joinTimeoutMs: spec.joinTimeoutMs, log });
  const files: string[] = [];
  let encoder: Encoder | null = null;
  let graceful = false;

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
      onExit: (e) => stage.reportCrash(describeExit('ffmpeg', e, e.runtimeLines)),
    });
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
      if (pausesEncoder(spec.output)) await stopEncoder();
    },
    async resume() {
      if (!encoder) encoder = startSegment();
    },
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
