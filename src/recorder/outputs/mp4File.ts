// Output kind mp4File: the composite recording as one MP4. The encoder writes fragmented MP4 segments into
// the attempt's directory (a pause ends one, a resume starts the next, so paused time is not in the files);
// finalising joins them without re-encoding (one segment, the usual case, is the asset as it is).
import { existsSync, readdirSync, renameSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { FFMPEG_PATH, type Mp4Output } from '../encoder.js';
import { probe } from '../probe.js';
import { runTool } from '../proc.js';
import type { Mp4FileOutput } from '../jobSpec.js';
import { beamKey } from '../../storage/local.js';
import { assetGaps, attemptNumber, readGaps, type AssetGap, type SegmentFile } from './gaps.js';
import { trimToCompleteFragments } from './mp4Fragments.js';
import { ASSET_RECORDING, openAssetOf } from '../../store/openAssets.js';
import type { AssetTable } from '../../store/schema.js';
import { draftAsset, startedMsOf, type AssetDraft, type FinaliseInput } from './finalise.js';

/** Encoder output of the n-th segment of an attempt. */
export function mp4EncoderOutput(attemptDir: string, segment: number): Mp4Output {
  return { kind: 'mp4', path: join(attemptDir, `segment-${String(segment).padStart(4, '0')}.mp4`) };
}

/** A pause cuts the file: the encoder stops and a resume starts the next segment. */
export const mp4PausesEncoder = true;

/** Segment files of every attempt of the job, in the order they were written (also those a dead handler left). */
export function mp4Segments(workDir: string): SegmentFile[] {
  if (!existsSync(workDir)) return [];
  const out: SegmentFile[] = [];
  const attempts = readdirSync(workDir).filter((n) => !Number.isNaN(attemptNumber(n)));
  for (const attempt of attempts.sort((a, b) => attemptNumber(a) - attemptNumber(b))) {
    const d = join(workDir, attempt);
    if (!statSync(d).isDirectory()) continue;
    for (const f of readdirSync(d).filter((n) => /^segment-\d+\.mp4$/.test(n)).sort()) out.push({ file: join(d, f), attempt, segment: Number(/\d+/.exec(f)![0]) });
  }
  return out.filter((s) => statSync(s.file).size > 0);
}

/** The asset row of a recording that just started (status `recording`): its bytes have a row from the first frame. */
export function openMp4Asset(output: Mp4FileOutput, where: Pick<FinaliseInput, 'ctx' | 'job'>): AssetTable {
  const { ctx, job } = where;
  const key = beamKey(ctx.customerId, job.room_id, startedMsOf(job));
  const asset = draftAsset({ ...where, failure: null }, 'room-composite', key, 0, 0, { resolution: { width: output.width, height: output.height } });
  return { ...asset, status: ASSET_RECORDING };
}

/**
 * Segments → one MP4 in storage → a room-composite draft (none when nothing was captured). A capture that
 * crashed and was relaunched (worker.ts) left segments in several attempts: the asset joins them all, and its
 * metadata.gaps says where time is missing and why. Each segment is first cut back to its last whole
 * fragment (an encoder that died mid-write). The draft updates the row opened at the first frame; a takeover
 * that finds the file already moved into storage (the server died before that update) builds it from there.
 */
export async function finaliseMp4File(output: Mp4FileOutput, input: FinaliseInput): Promise<AssetDraft[]> {
  const { ctx, media, job, workDir } = input;
  const open = await openAssetOf(ctx.db, job.id, 'room-composite');
  const key = open?.storage_key ?? beamKey(ctx.customerId, job.room_id, startedMsOf(job));
  const segments = mp4Segments(workDir).filter((s) => trimToCompleteFragments(s.file) !== 0);
  let size: number;
  let duration: number;
  let gaps: AssetGap[] = [];
  if (segments.length === 0) {
    if (!open || !ctx.localStorage.exists(key)) return [];
    size = statSync(ctx.localStorage.fileOf(key)).size;
    duration = await media.durationOf(ctx.localStorage.fileOf(key));
  } else {
    let file = segments[0].file;
    if (segments.length > 1) {
      file = join(workDir, 'joined.mp4');
      await media.joinSegments(segments.map((s) => s.file), file);
    }
    duration = await media.durationOf(file);
    gaps = await assetGaps(readGaps(workDir), segments, media, input.pauses, job.started_at ? Date.parse(job.started_at) : null);
    size = ctx.localStorage.put(key, file).size;
  }
  const drafted = draftAsset(input, 'room-composite', key, size, duration, { resolution: { width: output.width, height: output.height }, ...(gaps.length ? { gaps } : {}) });
  const asset = open ? { ...drafted, id: open.id, created_at: open.created_at } : drafted;
  return [{ output: 'mp4File', asset, presignedUrl: ctx.localStorage.presign(key, input.presignSeconds).url }];
}

/**
 * Cuts a segment whose encoder went on after the capture stopped meaning anything (its server died) to its
 * first `seconds`. Returns the seconds kept, or null when the segment was no longer than that.
 */
export async function cutSegment(file: string, seconds: number): Promise<number | null> {
  const keep = Math.max(0, seconds);
  const { duration } = await probe(file);
  if (keep >= duration - 0.1) return null;
  const tmp = `${file}.cut.mp4`;
  try {
    await runTool(FFMPEG_PATH, ['-hide_banner', '-loglevel', 'error', '-y', '-i', file, '-t', keep.toFixed(3), '-map', '0', '-c', 'copy', '-movflags', '+faststart', tmp], 300_000);
    renameSync(tmp, file);
  } finally {
    rmSync(tmp, { force: true });
  }
  return keep;
}
