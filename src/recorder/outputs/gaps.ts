// Where a recording is missing time because its capture crashed and was relaunched (or its encoder started
// again): the worker notes each in the job's work dir (gaps.json, so a takeover still knows), and the MP4
// asset names them in its metadata as {at, missing_seconds, reason}.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { MediaTools } from '../mediaTools.js';
import type { PausedSpan } from './finalise.js';

/** One relaunch: the recording went on from segment `segment` of `attempt` (its work sub-directory). */
export interface CaptureGap {
  attempt: string;
  segment: number;
  /** epoch ms: the crash seen, the new capture's first frame */
  crashedAt: number;
  resumedAt: number;
  reason: string;
}

/** A gap as the asset's metadata shows it: seconds into the asset, about how much is missing, why. */
export interface AssetGap {
  at: number;
  missing_seconds: number;
  reason: string;
}

const FILE = 'gaps.json';

export function readGaps(workDir: string): CaptureGap[] {
  const file = join(workDir, FILE);
  if (!existsSync(file)) return [];
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as CaptureGap[];
  } catch {
    return [];
  }
}

export function recordGap(workDir: string, gap: CaptureGap): void {
  try {
    writeFileSync(join(workDir, FILE), JSON.stringify([...readGaps(workDir), gap]));
  } catch {
    // a full disk: the asset's metadata will miss this gap, the recording goes on (or ends for the disk)
  }
}

/** Attempt number of a work sub-directory ("attempt-12" → 12): attempts sort by it, not by name. */
export function attemptNumber(dir: string): number {
  return Number(/^attempt-(\d+)$/.exec(dir)?.[1] ?? Number.NaN);
}

/** An MP4 segment of the job: its file, the attempt directory it is in, its number there. */
export interface SegmentFile {
  file: string;
  attempt: string;
  segment: number;
}

function pausedWithin(pauses: PausedSpan[], from: number, to: number): number {
  return pauses.reduce((sum, p) => sum + Math.max(0, Math.min(to, p.to ?? to) - Math.max(from, p.from)), 0);
}

/**
 * The gaps of an asset joined from `segments` (in order): a gap sits where the segment it names starts. What
 * is missing is the wall time since the previous resume (the job's start for the first gap), paused time left
 * out, less what the file holds of it: so frames the dead encoder had not written yet count too. Without a
 * start it is the time from the crash to the resume.
 */
export async function assetGaps(gaps: CaptureGap[], segments: SegmentFile[], media: MediaTools, pauses: PausedSpan[], startedMs: number | null): Promise<AssetGap[]> {
  const durations: number[] = [];
  for (const s of segments) durations.push(await media.durationOf(s.file));
  const out: AssetGap[] = [];
  let anchor = startedMs === null ? null : { ms: startedMs, at: 0 };
  for (const g of [...gaps].sort((a, b) => a.resumedAt - b.resumedAt)) {
    const n = attemptNumber(g.attempt);
    const at = durations.filter((_, i) => attemptNumber(segments[i].attempt) < n || (attemptNumber(segments[i].attempt) === n && segments[i].segment < g.segment)).reduce((a, b) => a + b, 0);
    const from = anchor?.ms ?? g.crashedAt;
    const missing = (g.resumedAt - from - pausedWithin(pauses, from, g.resumedAt)) / 1000 - (anchor ? at - anchor.at : 0);
    out.push({ at: round(at), missing_seconds: round(Math.max(0, missing)), reason: g.reason });
    anchor = { ms: g.resumedAt, at };
  }
  return out;
}

const round = (s: number) => Math.round(s * 10) / 10;
