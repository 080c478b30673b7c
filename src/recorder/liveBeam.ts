// The live-stream capture: the recorder's stage (Xvfb + PulseAudio, headful Chromium on the meeting page,
// joined) filmed by one ffmpeg writing the HLS ladder (recorder/encoder.ts, aligned 2 s keyframes). The same
// capture as a composite recording, another output. The encoder always writes growing (EVENT) playlists of
// the whole stream: the HLS route shows `live` streams as a sliding window of them, and the VOD and the
// per-layer files are made from them after the stream without a second copy.
import type { Logger } from '../logger.js';
import { openStage } from './stage.js';
import type { JobProcesses } from './leftovers.js';
import { startEncoder, type Encoder, type HlsLayer } from './encoder.js';

export interface LiveBeamLaunchOptions {
  url: string;
  allowedHosts: string[];
  /** receives master.m3u8 and one directory per layer (named by `layers[i].name`) */
  outDir: string;
  /** descending; the first is the capture size */
  layers: HlsLayer[];
  audioBitrateKbps: number;
  fps: number;
  segmentSeconds: number;
  joinTimeoutMs: number;
  log: Logger;
}

export interface LiveCapture {
  /** resolves when the encoder produced its first frame */
  firstFrame: Promise<Date>;
  /** resolves if a process of the capture dies on its own (not through stop) */
  crashed: Promise<string>;
  /** encoder first (it finishes the playlists with #EXT-X-ENDLIST), then the browser and the display */
  stop(): Promise<{ graceful: boolean }>;
  /** process-group ids of the capture, for a worker that takes the stream over after this one died */
  processes(): JobProcesses;
}

export type LaunchLiveBeam = (opts: LiveBeamLaunchOptions) => Promise<LiveCapture>;

export const launchLiveBeam: LaunchLiveBeam = async (opts) => {
  const top = opts.layers[0];
  const size = { width: top.width, height: top.height };
  const stage = await openStage({ url: opts.url, size, allowedHosts: opts.allowedHosts, joinTimeoutMs: opts.joinTimeoutMs, log: opts.log });
  let encoder: Encoder;
  try {
    encoder = startEncoder({
      display: stage.display.display,
      size,
      fps: opts.fps,
      audioSource: stage.display.monitorSource,
      pulseServer: stage.display.pulseServer,
      preset: 'ultrafast',
      audioBitrateKbps: opts.audioBitrateKbps,
      output: { kind: 'hls', dir: opts.outDir, layers: opts.layers, segmentSeconds: opts.segmentSeconds, playlist: 'event', segmentType: 'mpegts' },
      logger: opts.log,
      onExit: (e) => stage.reportCrash(`encoder exited (${e.signal ?? e.code}): ${e.stderrTail.slice(-300)}`),
    });
  } catch (err) {
    await stage.close();
    throw err;
  }
  const firstFrame = encoder.firstFrame.then(() => new Date());
  firstFrame.catch(() => undefined);
  let stopping: Promise<{ graceful: boolean }> | null = null;
  return {
    firstFrame,
    crashed: stage.crashed,
    processes: () => ({ encoders: [encoder.pid], others: [stage.browser.pid, stage.display.pids.xvfb, stage.display.pids.pulse] }),
    stop() {
      stopping ??= (async () => {
        const exit = await encoder.stop().catch(() => null);
        await stage.close();
        return { graceful: !!exit?.graceful };
      })();
      return stopping;
    },
  };
};
