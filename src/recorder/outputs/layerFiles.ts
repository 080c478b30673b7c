// Output kind layerFiles: after the stream, one room-composite MP4 per recorded layer of the ladder, joined
// from that layer's live segments (paused spans left out) without re-encoding.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { HlsLiveOutput, LayerFilesOutput } from '../jobSpec.js';
import { hlsLayerFileKey } from '../../storage/live.js';
import { keptSegments } from './hlsLive.js';
import { draftAsset, startedMsOf, type AssetDraft, type FinaliseInput } from './finalise.js';

/** Drafts of the layers that could be made; a layer that could not is reported through `problems`. */
export async function finaliseLayerFiles(output: LayerFilesOutput, live: HlsLiveOutput, input: FinaliseInput, problems: string[]): Promise<AssetDraft[]> {
  const { ctx, media, job, workDir } = input;
  const drafts: AssetDraft[] = [];
  mkdirSync(workDir, { recursive: true });
  for (const i of output.layers) {
    const segments = keptSegments(live, i, input.pauses);
    if (segments.length === 0) continue;
    const l = live.layers[i];
    try {
      const tmp = join(workDir, `layer-${i}.mp4`);
      await media.joinSegments(segments.map((s) => join(live.dir, l.name, s.uri)), tmp);
      const seconds = await media.durationOf(tmp);
      const key = hlsLayerFileKey(ctx.customerId, job.room_id, startedMsOf(job), i);
      const { size } = ctx.localStorage.put(key, tmp);
      const asset = draftAsset(input, 'room-composite', key, size, seconds, { layer: String(i), resolution: { width: l.width, height: l.height } });
      drafts.push({ output: 'layerFiles', asset, presignedUrl: ctx.localStorage.presign(key, input.presignSeconds).url, layer: { index: i, width: l.width, height: l.height } });
    } catch (err) {
      problems.push(`layer ${i} file: ${err instanceof Error ? err.message : String(err)}`);
    }
  }
  return drafts;
}
