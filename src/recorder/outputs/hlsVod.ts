// Output kind hlsVod: after the stream, a room-vod asset — VOD playlists of every recorded layer (paused spans
// cut out, timed metadata as EXT-X-DATERANGE) and a master naming them — over the live segments, hard-linked
// into storage (no second copy on the same filesystem).
import { copyFileSync, linkSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import type { HlsLiveOutput, HlsVodOutput } from '../jobSpec.js';
import { filterMaster, vodPlaylist, withDateRanges } from '../../domain/hlsPlaylists.js';
import { timedMetadataOf } from '../../store/liveStreams.js';
import { hlsVodKeyDir, VodUrlSigner } from '../../storage/live.js';
import { keptSegments } from './hlsLive.js';
import { draftAsset, startedMsOf, type AssetDraft, type FinaliseInput } from './finalise.js';

/** A hard link (same filesystem: no copy of the bytes), else a copy. */
function linkOrCopy(from: string, to: string): void {
  mkdirSync(dirname(to), { recursive: true });
  try {
    linkSync(from, to);
  } catch {
    copyFileSync(from, to);
  }
}

export async function finaliseHlsVod(output: HlsVodOutput, live: HlsLiveOutput, input: FinaliseInput): Promise<AssetDraft[]> {
  const { ctx, job } = input;
  const kept = output.layers.map((i) => ({ i, segments: keptSegments(live, i, input.pauses) })).filter((k) => k.segments.length > 0);
  if (kept.length === 0) return [];
  const dir = hlsVodKeyDir(ctx.customerId, job.room_id, startedMsOf(job));
  const metas = await timedMetadataOf(ctx.db, job.id);
  let size = 0;
  for (const { i, segments } of kept) {
    const name = live.layers[i].name;
    for (const s of segments) {
      const to = ctx.localStorage.fileOf(`${dir}/${name}/${basename(s.uri)}`);
      linkOrCopy(join(live.dir, name, s.uri), to);
      size += statSync(to).size;
    }
    const text = withDateRanges(vodPlaylist(segments.map((s) => ({ ...s, uri: basename(s.uri) }))), metas);
    writeFileSync(ctx.localStorage.fileOf(`${dir}/${name}/index.m3u8`), text);
    size += Buffer.byteLength(text);
  }
  const builtNames = new Set(kept.map(({ i }) => `${live.layers[i].name}/index.m3u8`));
  const master = filterMaster(readFileSync(join(live.dir, 'master.m3u8'), 'utf8'), (uri) => builtNames.has(uri));
  const masterKey = `${dir}/master.m3u8`;
  writeFileSync(ctx.localStorage.fileOf(masterKey), master);
  size += Buffer.byteLength(master);
  const seconds = kept[0].segments.reduce((sum, s) => sum + s.duration, 0);
  const top = live.layers[kept[0].i];
  const asset = draftAsset(input, 'room-vod', masterKey, size, seconds, { num_layers: String(kept.length), max_width: top.width, max_height: top.height });
  const signer = new VodUrlSigner(ctx.config.appSecret, () => ctx.config.publicUrl);
  return [{ output: 'hlsVod', asset, presignedUrl: signer.presign(asset.id, input.presignSeconds).url }];
}
