// Where a recording is missing time because its capture crashed and was relaunched: the worker notes each
// relaunch in the job's work dir (gaps.json, so a takeover still knows), and the MP4 asset names them in its
// metadata as {at, missing_seconds, reason}.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { MediaTools } from '../mediaTools.js';
import type { PausedSpan } from './finalise.js';

/** One relaunch: the capture of `attempt` (its work sub-directory) took over after the crash. */
export interface CaptureGap {
  attempt: string;
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
  writeFileSync(join(workDir, FILE), JSON.stringify([...readGaps(workDir), gap]));
}

/** Attempt number of a work sub-directory ("attempt-12" → 12): attempts sort by it, not by name. */
export function attemptNumber(dir: string): number {
  return Number(/^attempt-(\d+)$/.exec(dir)?.[1] ?? Number.NaN);
}

function pausedWithin(pauses: PausedSpan[], from: number, to: number): number {
  return pauses.reduce((sum, p) => sum + Math.max(0, Math.min(to, p.to ?? to) - Math.max(from, p.from)), 0);
}

/**
 * The gaps of an asset joined from `segments` (in order, each under its attempt's directory): a gap sits where
 * its attempt's first segment starts; paused time is not missing.
 */
export async function assetGaps(gaps: CaptureGap[], segments: Array<{ file: string; attempt: string }>, media: MediaTools, pauses: PausedSpan[]): Promise<AssetGap[]> {
  const out: AssetGap[] = [];
  for (const g of gaps) {
    const before = segments.filter((s) => attemptNumber(s.attempt) < attemptNumber(g.attempt));
    let at = 0;
    for (const s of before) at += await media.durationOf(s.file);
    const missing = (g.resumedAt - g.crashedAt - pausedWithin(pauses, g.crashedAt, g.resumedAt)) / 1000;
    out.push({ at: Math.round(at * 10) / 10, missing_seconds: Math.round(Math.max(0, missing) * 10) / 10, reason: g.reason });
  }
  return out;
}
