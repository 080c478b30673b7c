// The output kinds of an egress job, in one table: what the encoder writes for an encoded output, whether a
// pause touches the encoder, and how each output finalises into asset drafts. A new kind is a file in this
// folder plus its line here (docs/architecture.md).
import type { HlsOutput, Mp4Output } from '../encoder.js';
import type { EncodedOutput, HlsLiveOutput, JobSpec } from '../jobSpec.js';
import { mp4EncoderOutput, mp4PausesEncoder, finaliseMp4File, openMp4Asset } from './mp4File.js';
import { hlsEncoderOutput, hlsPausesEncoder } from './hlsLive.js';
import { finaliseHlsVod } from './hlsVod.js';
import { finaliseLayerFiles } from './layerFiles.js';
import type { AssetDraft, FinaliseInput } from './finalise.js';
import type { AssetTable } from '../../store/schema.js';
import { serverGoneAt } from '../leftovers.js';

/** ffmpeg's output for the encoded output; `segment` counts the MP4 files of one attempt. */
export function encoderOutputOf(o: EncodedOutput, attemptDir: string, segment: number): Mp4Output | HlsOutput {
  return o.kind === 'mp4File' ? mp4EncoderOutput(attemptDir, segment) : hlsEncoderOutput(o);
}

export function pausesEncoder(o: EncodedOutput): boolean {
  return o.kind === 'mp4File' ? mp4PausesEncoder : hlsPausesEncoder;
}

/**
 * A crashed capture is relaunched: an MP4 into a new segment (the asset joins them), a live ladder into the same
 * playlists (the encoder appends to them after a discontinuity, hlsEncoderOutput), so players go on.
 */
export function relaunchable(o: EncodedOutput): boolean {
  return o.kind === 'mp4File' || o.kind === 'hlsLive';
}

export function liveOutputOf(spec: JobSpec): HlsLiveOutput | undefined {
  return spec.outputs.find((o): o is HlsLiveOutput => o.kind === 'hlsLive');
}

/** Asset rows to insert when the job starts running (status `recording`): outputs whose file grows while it runs (the MP4). */
export function openAssetsOf(spec: JobSpec, where: Pick<FinaliseInput, 'ctx' | 'job'>): AssetTable[] {
  return spec.outputs.flatMap((o) => (o.kind === 'mp4File' ? [openMp4Asset(o, where)] : []));
}

/**
 * Every output's assets; an output that fails adds to `problems` and the others still run (what was
 * captured is never dropped because another output could not be made). Per-layer files first, then the VOD.
 */
export async function finaliseOutputs(given: FinaliseInput): Promise<{ drafts: AssetDraft[]; problems: string[] }> {
  // after a takeover, what the encoder filmed once the server had died is left out like a pause (HLS segments;
  // the MP4 was cut at the takeover)
  const goneAt = serverGoneAt(given.workDir);
  const input = goneAt === null ? given : { ...given, pauses: [...given.pauses, { from: goneAt, to: null }] };
  const drafts: AssetDraft[] = [];
  const problems: string[] = [];
  const live = liveOutputOf(input.spec);
  const order = ['mp4File', 'layerFiles', 'hlsVod'];
  const outputs = [...input.spec.outputs].sort((a, b) => order.indexOf(a.kind) - order.indexOf(b.kind));
  for (const o of outputs) {
    try {
      if (o.kind === 'mp4File') drafts.push(...(await finaliseMp4File(o, input)));
      else if (o.kind === 'layerFiles' && live) drafts.push(...(await finaliseLayerFiles(o, live, input, problems)));
      else if (o.kind === 'hlsVod' && live) drafts.push(...(await finaliseHlsVod(o, live, input)));
    } catch (err) {
      const what = o.kind === 'hlsVod' ? 'VOD' : o.kind === 'mp4File' ? 'MP4' : o.kind;
      problems.push(`${what}: ${err instanceof Error ? err.message : String(err)}`);
    }
  }
  return { drafts, problems };
}
