// What is in a recorded file: ffprobe's view (for asset duration/size) and decoding helpers the tests use to
// tell a real recording from a black or silent one.
import { runTool } from './proc.js';

export const FFPROBE_PATH = 'ffprobe';
const FFMPEG = 'ffmpeg';

export interface ProbedStream {
  index: number;
  type: 'video' | 'audio' | 'data' | 'subtitle' | string;
  codec: string;
  width?: number;
  height?: number;
  sampleRate?: number;
  channels?: number;
  /** seconds; absent when the container does not say */
  duration?: number;
  frameRate?: number;
}

export interface ProbeResult {
  format: string;
  /** seconds */
  duration: number;
  sizeBytes: number;
  bitRate?: number;
  streams: ProbedStream[];
}

interface RawProbe {
  format?: { format_name?: string; duration?: string; size?: string; bit_rate?: string };
  streams?: Array<{
    index: number;
    codec_type?: string;
    codec_name?: string;
    width?: number;
    height?: number;
    sample_rate?: string;
    channels?: number;
    duration?: string;
    avg_frame_rate?: string;
  }>;
}

function num(v: string | undefined): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  return Number.isFinite(n) ? n : undefined;
}

function rate(v: string | undefined): number | undefined {
  if (!v) return undefined;
  const [a, b] = v.split('/').map(Number);
  return b ? a / b : undefined;
}

export async function probe(file: string): Promise<ProbeResult> {
  const { stdout } = await runTool(FFPROBE_PATH, ['-v', 'error', '-print_format', 'json', '-show_format', '-show_streams', file]);
  const raw = JSON.parse(stdout.toString('utf8')) as RawProbe;
  const streams = (raw.streams ?? []).map(
    (s): ProbedStream => ({
      index: s.index,
      type: s.codec_type ?? 'unknown',
      codec: s.codec_name ?? 'unknown',
      width: s.width,
      height: s.height,
      sampleRate: num(s.sample_rate),
      channels: s.channels,
      duration: num(s.duration),
      frameRate: rate(s.avg_frame_rate),
    }),
  );
  const streamMax = Math.max(0, ...streams.map((s) => s.duration ?? 0));
  return {
    format: raw.format?.format_name ?? 'unknown',
    duration: num(raw.format?.duration) ?? streamMax,
    sizeBytes: num(raw.format?.size) ?? 0,
    bitRate: num(raw.format?.bit_rate),
    streams,
  };
}

export interface SampledFrame {
  /** seconds into the file */
  at: number;
  width: number;
  height: number;
  pixFmt: 'gray' | 'rgb24';
  /** raw pixels, row-major */
  data: Buffer;
  /** mean luma 0..255 */
  meanLuma: number;
  /** luma variance (0 for a flat image) */
  variance: number;
}

export interface SampleOptions {
  /** output size of each decoded frame (default 320x180) */
  width?: number;
  height?: number;
  pixFmt?: 'gray' | 'rgb24';
  /** seconds into the file to take the frames at, instead of spreading them evenly */
  times?: number[];
}

/** Decodes `n` frames spread evenly over the file (at (i+0.5)/n of its duration), or at `times`. */
export async function sampleFrames(file: string, n: number, opts: SampleOptions = {}): Promise<SampledFrame[]> {
  const width = opts.width ?? 320;
  const height = opts.height ?? 180;
  const pixFmt = opts.pixFmt ?? 'gray';
  const bpp = pixFmt === 'gray' ? 1 : 3;
  const { duration } = opts.times ? { duration: 0 } : await probe(file);
  const times = opts.times ?? Array.from({ length: n }, (_, i) => (duration > 0 ? (duration * (i + 0.5)) / n : 0));
  const frames: SampledFrame[] = [];
  for (const at of times) {
    const { stdout } = await runTool(FFMPEG, [
      '-v', 'error', '-ss', at.toFixed(3), '-i', file, '-frames:v', '1', '-an',
      '-vf', `scale=${width}:${height}`, '-f', 'rawvideo', '-pix_fmt', pixFmt, 'pipe:1',
    ]);
    if (stdout.length < width * height * bpp) continue; // past the last decodable frame
    const data = stdout.subarray(0, width * height * bpp);
    frames.push({ at, width, height, pixFmt, data, ...lumaStats(data, bpp) });
  }
  return frames;
}

function lumaStats(data: Buffer, bpp: number): { meanLuma: number; variance: number } {
  const count = data.length / bpp;
  let sum = 0;
  let sq = 0;
  for (let i = 0; i < data.length; i += bpp) {
    const y = bpp === 1 ? data[i] : 0.299 * data[i] + 0.587 * data[i + 1] + 0.114 * data[i + 2];
    sum += y;
    sq += y * y;
  }
  const mean = sum / count;
  return { meanLuma: mean, variance: sq / count - mean * mean };
}

/** Mean absolute per-byte difference of two frames of the same size (0 = identical). */
export function frameDifference(a: SampledFrame, b: SampledFrame): number {
  if (a.data.length !== b.data.length) throw new Error('frames differ in size');
  let d = 0;
  for (let i = 0; i < a.data.length; i++) d += Math.abs(a.data[i] - b.data[i]);
  return d / a.data.length;
}

/** The average colour of a rectangle of an rgb24 frame. */
export function regionColour(f: SampledFrame, x: number, y: number, w: number, h: number): [number, number, number] {
  if (f.pixFmt !== 'rgb24') throw new Error('regionColour needs rgb24 frames');
  const acc = [0, 0, 0];
  for (let row = y; row < y + h; row++) {
    for (let col = x; col < x + w; col++) {
      const o = (row * f.width + col) * 3;
      acc[0] += f.data[o];
      acc[1] += f.data[o + 1];
      acc[2] += f.data[o + 2];
    }
  }
  const n = w * h;
  return [acc[0] / n, acc[1] / n, acc[2] / n];
}

export interface AudioLevel {
  /** dBFS; about -91 for digital silence */
  meanDb: number;
  maxDb: number;
}

/** Mean and peak volume of the first audio stream (ffmpeg volumedetect). */
export async function audioLevel(file: string): Promise<AudioLevel> {
  const { stderr } = await runTool(FFMPEG, ['-hide_banner', '-nostats', '-i', file, '-map', '0:a:0', '-af', 'volumedetect', '-f', 'null', '-']);
  const mean = /mean_volume:\s*(-?[\d.]+|-inf) dB/.exec(stderr);
  const max = /max_volume:\s*(-?[\d.]+|-inf) dB/.exec(stderr);
  if (!mean || !max) throw new Error(`volumedetect gave no figures for ${file}`);
  const db = (s: string) => (s === '-inf' ? -Infinity : Number(s));
  return { meanDb: db(mean[1]), maxDb: db(max[1]) };
}
