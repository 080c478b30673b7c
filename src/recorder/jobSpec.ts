// The egress job as the recorder sees it: one spec per job (a recording or a live stream) with the list of
// outputs it makes, and the capture it runs. Everything here is plain JSON: the spec crosses a process
// boundary to the job's handler process (recorder/handler.ts).
import type { Logger } from '../logger.js';
import type { HlsLayer } from './encoder.js';
import type { JobProcesses } from './leftovers.js';

export type EgressJobKind = 'recording' | 'live-stream';

/** One composite MP4 (fragmented segments; a pause ends one and a resume starts the next). */
export interface Mp4FileOutput {
  kind: 'mp4File';
  width: number;
  height: number;
}

/** The live HLS ladder written into `dir` (master.m3u8 + one directory per layer), served while it grows. */
export interface HlsLiveOutput {
  kind: 'hlsLive';
  dir: string;
  layers: HlsLayer[];
  audioBitrateKbps: number;
  segmentSeconds: number;
  /** `live` playlists shown as a sliding window of this many segments */
  playlistType: 'live' | 'event';
  windowSegments: number;
  /** nothing records the stream: segments out of the window may be deleted */
  prunable: boolean;
}

/** After the stream: VOD playlists of the recorded layers (indexes into the hlsLive ladder) + master. */
export interface HlsVodOutput {
  kind: 'hlsVod';
  layers: number[];
}

/** After the stream: one MP4 per recorded layer, joined from its segments without re-encoding. */
export interface LayerFilesOutput {
  kind: 'layerFiles';
  layers: number[];
}

export type OutputSpec = Mp4FileOutput | HlsLiveOutput | HlsVodOutput | LayerFilesOutput;
/** The outputs an encoder writes while the capture runs; the others are made from them afterwards. */
export type EncodedOutput = Mp4FileOutput | HlsLiveOutput;

/** What one capture attempt needs: where to point the browser, and what the encoder writes. */
export interface CaptureSpec {
  url: string;
  allowedHosts: string[];
  joinTimeoutMs: number;
  size: { width: number; height: number };
  fps: number;
  audioOnly: boolean;
  /** ms the encoder moves the audio later: this machine's capture offset, corrected */
  audioOffsetMs: number;
  /** this attempt's own directory (MP4 segments go here) */
  workDir: string;
  output: EncodedOutput;
  /** times this capture may start its encoder again itself when it dies mid-way (MP4 only; default 0) */
  encoderRestarts?: number;
}

/** The capture started its encoder again after it died: the recording misses what lies between. */
export interface EncoderRestart {
  /** index of the first MP4 segment after the gap, in the capture's work dir */
  segment: number;
  /** epoch ms: the encoder's death, the new encoder's first frame */
  crashedAt: number;
  resumedAt: number;
  reason: string;
}

export interface JobSpec {
  kind: EgressJobKind;
  jobId: string;
  outputs: OutputSpec[];
}

export interface CaptureResult {
  /** files the encoder wrote, in order (MP4 segments; empty for HLS, whose playlists list them) */
  files: string[];
  /** the encoder ended with its trailer / #EXT-X-ENDLIST written */
  graceful: boolean;
}

/** One running capture: a browser showing the meeting, an encoder writing the output. */
export interface Capture {
  /** resolves when the encoder wrote its first frame */
  firstFrame: Promise<Date>;
  /** resolves if a process of the capture dies on its own (not through stop) */
  crashed: Promise<string>;
  /** the encoder's output decides what a pause is (a new MP4 segment; nothing for a live ladder) */
  pause(): Promise<void>;
  resume(): Promise<void>;
  /** encoder first (it finishes its file), then the browser and the display; idempotent */
  stop(): Promise<CaptureResult>;
  /** process-group ids of the capture, for whoever takes the job over after this one died */
  processes(): JobProcesses;
  /** the encoder restarts so far (spec.encoderRestarts), in order */
  restarts?(): EncoderRestart[];
}

export type LaunchCapture = (spec: CaptureSpec, log: Logger) => Promise<Capture>;

export function encodedOutputOf(spec: JobSpec): EncodedOutput {
  const o = spec.outputs.find((x): x is EncodedOutput => x.kind === 'mp4File' || x.kind === 'hlsLive');
  if (!o) throw new Error(`job ${spec.jobId} has no encoded output`);
  return o;
}
