// Measures lip sync in media: the onsets of a picture that flashes white and a sound that beeps 1 kHz at the
// same instants (every SYNC_PERIOD_S), and how far apart they land — in a file or playlist (read by ffmpeg) or
// in onset lists from elsewhere (a meeting page). Offsets are audio − video in ms: negative = audio early.
// Used by the recorder's capture calibration (calibration.ts) and by the lip-sync tests and bench.
import { spawn } from 'node:child_process';

export const SYNC_PERIOD_S = 2;
/** flash and beep length */
export const PULSE_S = 0.1;

/** Onset times (s on one clock) of flashes and beeps. */
export interface Onsets {
  flashes: number[];
  beeps: number[];
}

export interface SyncFigures {
  pairs: number;
  /** audio − video, ms; negative: audio early */
  median_ms: number;
  /** 95th percentile of |offset − median| */
  p95_spread_ms: number;
  /** least-squares trend of the offset from the first to the last pair */
  drift_ms: number;
  span_s: number;
  min_ms: number;
  max_ms: number;
  offsets_ms: number[];
}

const round = (n: number) => Math.round(n * 10) / 10;

/** Pairs every flash with the nearest beep within half a period; offset = beep − flash. */
export function pairOnsets(o: Onsets): Array<{ at: number; offsetMs: number }> {
  const out: Array<{ at: number; offsetMs: number }> = [];
  for (const f of o.flashes) {
    let best: number | null = null;
    for (const b of o.beeps) if (Math.abs(b - f) < SYNC_PERIOD_S / 2 && (best === null || Math.abs(b - f) < Math.abs(best - f))) best = b;
    if (best !== null) out.push({ at: f, offsetMs: (best - f) * 1000 });
  }
  return out;
}

export function summarize(pairs: Array<{ at: number; offsetMs: number }>): SyncFigures {
  if (pairs.length === 0) throw new Error('no flash/beep pairs found');
  const xs = pairs.map((p) => p.offsetMs);
  const sorted = [...xs].sort((a, b) => a - b);
  const median = sorted[Math.floor((sorted.length - 1) / 2)];
  const dev = xs.map((x) => Math.abs(x - median)).sort((a, b) => a - b);
  const p95 = dev[Math.min(dev.length - 1, Math.ceil(dev.length * 0.95) - 1)];
  const n = pairs.length;
  const mt = pairs.reduce((s, p) => s + p.at, 0) / n;
  const mo = xs.reduce((s, x) => s + x, 0) / n;
  let num = 0;
  let den = 0;
  for (const p of pairs) {
    num += (p.at - mt) * (p.offsetMs - mo);
    den += (p.at - mt) ** 2;
  }
  const span = pairs[n - 1].at - pairs[0].at;
  const drift = den > 0 ? (num / den) * span : 0;
  return {
    pairs: n,
    median_ms: round(median),
    p95_spread_ms: round(p95),
    drift_ms: round(drift),
    span_s: round(span),
    min_ms: round(sorted[0]),
    max_ms: round(sorted[n - 1]),
    offsets_ms: xs.map(round),
  };
}

/** Rising edges of `level` over `threshold`, at least `gapS` after the previous rise (re-armed once below). */
export function risingEdges(samples: Array<{ t: number; v: number }>, threshold: number, gapS = SYNC_PERIOD_S / 2): number[] {
  const out: number[] = [];
  let armed = true;
  let belowSince = -Infinity;
  for (const s of samples) {
    if (s.v >= threshold) {
      if (armed && (out.length === 0 || s.t - out[out.length - 1] >= gapS)) out.push(s.t);
      armed = false;
      belowSince = Infinity;
    } else {
      if (belowSince === Infinity) belowSince = s.t;
      if (s.t - belowSince >= 0.3) armed = true;
    }
  }
  return out;
}

function ffmpegLines(args: string[]): Promise<string[]> {
  return new Promise((resolve, reject) => {
    const p = spawn('ffmpeg', ['-hide_banner', '-nostats', '-loglevel', 'error', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    p.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
    p.stderr.setEncoding('utf8').on('data', (d: string) => (err += d));
    p.on('error', reject);
    p.on('close', (code) => (code === 0 ? resolve(out.split('\n')) : reject(new Error(`ffmpeg ${code}: ${err.slice(-800)}`))));
  });
}

/** `frame:N pts:… pts_time:T` followed by `key=value` lines (ffmpeg's metadata=print). */
function parseMetadata(lines: string[], key: string): Array<{ t: number; v: number }> {
  const out: Array<{ t: number; v: number }> = [];
  let t = Number.NaN;
  for (const line of lines) {
    const m = /pts_time:(-?[\d.]+)/.exec(line);
    if (m) t = Number(m[1]);
    else if (line.startsWith(`${key}=`)) {
      const v = Number(line.slice(key.length + 1));
      if (Number.isFinite(t)) out.push({ t, v: Number.isFinite(v) ? v : -200 });
    }
  }
  return out;
}

/**
 * Flash and beep onsets in a file or playlist (anything ffmpeg reads), on its presentation timeline.
 * `crop` (x, y, w, h in pixels) picks the tile to watch; by default the whole picture.
 */
export async function mediaOnsets(input: string, crop?: { x: number; y: number; w: number; h: number }): Promise<Onsets & { luma: { min: number; max: number }; peakDb: number }> {
  const c = crop ? `crop=${crop.w}:${crop.h}:${crop.x}:${crop.y},` : '';
  const [vLines, aLines] = await Promise.all([
    ffmpegLines(['-i', input, '-map', '0:v:0', '-vf', `${c}scale=64:36,signalstats,metadata=print:key=lavfi.signalstats.YAVG:file=-`, '-f', 'null', '-']),
    // 1 ms blocks: the peak of each gives the beep's first millisecond
    ffmpegLines(['-i', input, '-map', '0:a:0', '-af', 'aformat=channel_layouts=mono,asetnsamples=n=48:p=0,astats=metadata=1:reset=1:measure_perchannel=none,ametadata=print:key=lavfi.astats.Overall.Peak_level:file=-', '-f', 'null', '-']),
  ]);
  const luma = parseMetadata(vLines, 'lavfi.signalstats.YAVG');
  const level = parseMetadata(aLines, 'lavfi.astats.Overall.Peak_level');
  if (luma.length === 0 || level.length === 0) throw new Error(`no ${luma.length === 0 ? 'video' : 'audio'} frames in ${input}`);
  // (a loop, not Math.min(...xs): a 10-minute file has 600,000 audio blocks, too many arguments for a call)
  const lo = luma.reduce((m, s) => Math.min(m, s.v), Infinity);
  const hi = luma.reduce((m, s) => Math.max(m, s.v), -Infinity);
  const peak = level.reduce((m, s) => Math.max(m, s.v), -Infinity);
  // the first half second is the file's start-up (a fragmented MP4's first sample keeps pts 0 while the rest
  // of the timeline moves by the AAC priming delay): onsets there are not measured
  const from = Math.min(luma[0].t, level[0].t) + 0.5;
  const after = (ts: number[]) => ts.filter((t) => t >= from);
  return {
    flashes: hi - lo > 40 ? after(risingEdges(luma, (lo + hi) / 2)) : [],
    beeps: peak > -50 ? after(risingEdges(level, Math.max(-45, peak - 20))) : [],
    luma: { min: round(lo), max: round(hi) },
    peakDb: round(peak),
  };
}

export async function measureMedia(input: string, crop?: { x: number; y: number; w: number; h: number }): Promise<SyncFigures & { flashes: number; beeps: number; pairList: Array<{ at: number; offsetMs: number }> }> {
  const o = await mediaOnsets(input, crop);
  if (pairOnsets(o).length === 0) throw new Error(`no flash/beep pairs: ${o.flashes.length} flashes, ${o.beeps.length} beeps, luma ${o.luma.min}…${o.luma.max}, audio peak ${o.peakDb} dB`);
  const pairList = pairOnsets(o);
  return { ...summarize(pairList), flashes: o.flashes.length, beeps: o.beeps.length, pairList };
}
