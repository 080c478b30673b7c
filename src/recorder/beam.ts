// The composite-recording capture: the stage filmed by one ffmpeg into fragmented MP4 segments. A pause ends
// the current segment and a resume starts the next one on the same stage, so paused time is simply not in
// the files; one segment (the usual case) becomes the asset as it is, without another pass over it.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { openStage } from './stage.js';
import { startEncoder, type Encoder } from './encoder.js';
import type { BeamCapture, LaunchBeam } from './worker.js';

export const launchBeam: LaunchBeam = async (opts) => {
  const size = { width: opts.width, height: opts.height };
  mkdirSync(opts.workDir, { recursive: true });
  const stage = await openStage({ url: opts.url, size, allowedHosts: opts.allowedHosts, joinTimeoutMs: opts.joinTimeoutMs, log: opts.log });
  const segments: string[] = [];
  let encoder: Encoder | null = null;

  const startSegment = (): Encoder => {
    const path = join(opts.workDir, `segment-${String(segments.length).padStart(4, '0')}.mp4`);
    segments.push(path);
    return startEncoder({
      display: stage.display.display,
      size,
      fps: 30,
      video: !opts.audioOnly,
      audioSource: stage.display.monitorSource,
      pulseServer: stage.display.pulseServer,
      preset: 'ultrafast',
      output: { kind: 'mp4', path },
      logger: opts.log,
      onExit: (e) => stage.reportCrash(`encoder exited (${e.signal ?? e.code}): ${e.stderrTail.slice(-300)}`),
    });
  };

  try {
    encoder = startSegment();
  } catch (err) {
    await stage.close();
    throw err;
  }
  const firstFrame = encoder.firstFrame.then(() => new Date());
  firstFrame.catch(() => undefined);
  let stopping: Promise<string[]> | null = null;

  const capture: BeamCapture = {
    firstFrame,
    crashed: stage.crashed,
    async pause() {
      const e = encoder;
      encoder = null;
      await e?.stop();
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
        await encoder?.stop().catch(() => undefined);
        encoder = null;
        await stage.close();
        return segments;
      })();
      return stopping;
    },
  };
  return capture;
};
