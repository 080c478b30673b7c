// Output kind hlsLive: the live HLS ladder (one ffmpeg, aligned 2 s keyframes) in DATA_DIR/live/<job>/. The
// encoder always writes growing (EVENT) playlists of the whole stream: the HLS route shows `live` streams as a
// sliding window of them, and the VOD and per-layer files (hlsVod, layerFiles) are made from them afterwards
// without a second copy. Running = every layer has a playable segment.
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { HlsLayer as EncoderLayer, HlsOutput } from '../encoder.js';
import type { HlsLayer } from '../../model/templates.js';
import type { HlsLiveOutput } from '../jobSpec.js';
import { parseMediaPlaylist, type MediaPlaylist, type PlaylistSegment } from '../../domain/hlsPlaylists.js';
import type { PausedSpan } from './finalise.js';

export const SEGMENT_SECONDS = 2;
/** `live` streams without recording keep this many segments beyond the window on disk (late players) */
const PRUNE_MARGIN = 5;

/** Directory (and variant) name of each layer: "720p", or "1280x720" when two layers share a height. */
export function layerNames(layers: Array<Pick<HlsLayer, 'width' | 'height'>>): string[] {
  const heights = layers.map((l) => l.height);
  return layers.map((l) => (heights.filter((h) => h === l.height).length > 1 ? `${l.width}x${l.height}` : `${l.height}p`));
}

/** The ladder of a template's HLS layers, named. */
export function encoderLayers(layers: HlsLayer[]): EncoderLayer[] {
  const names = layerNames(layers);
  return layers.map((l, i) => ({ name: names[i], width: l.width, height: l.height, videoBitrateKbps: l.videoBitrate }));
}

/** The encoder's ladder; playlists already there (a relaunch, a takeover) are gone on with, not started again. */
export function hlsEncoderOutput(o: HlsLiveOutput): HlsOutput {
  const append = o.layers.length > 0 && existsSync(join(o.dir, o.layers[0].name, 'index.m3u8'));
  return { kind: 'hls', dir: o.dir, layers: o.layers, segmentSeconds: o.segmentSeconds, playlist: 'event', segmentType: 'mpegts', append };
}

/** The stream goes on through a pause: only its recordings leave the paused span out. */
export const hlsPausesEncoder = false;

export function readPlaylist(file: string): MediaPlaylist {
  try {
    return parseMediaPlaylist(readFileSync(file, 'utf8'));
  } catch {
    return { header: [], segments: [], ended: false };
  }
}

/** Every layer's playlist lists a segment whose file is there, and the master is written. */
export function hlsReady(o: HlsLiveOutput): boolean {
  if (!existsSync(join(o.dir, 'master.m3u8'))) return false;
  return o.layers.every((l) => {
    const p = readPlaylist(join(o.dir, l.name, 'index.m3u8'));
    return p.segments.length > 0 && existsSync(join(o.dir, l.name, p.segments[0].uri));
  });
}

/** Deletes segment files that left the live window (by a margin) when nothing records them; returns them ("720p/seg_00001.ts"). */
export function pruneLiveWindow(o: HlsLiveOutput, pruned: number[]): string[] {
  if (!o.prunable || o.playlistType !== 'live') return [];
  const gone: string[] = [];
  o.layers.forEach((l, i) => {
    const segs = readPlaylist(join(o.dir, l.name, 'index.m3u8')).segments;
    const until = segs.length - o.windowSegments - PRUNE_MARGIN;
    for (pruned[i] ??= 0; pruned[i] < until; pruned[i]++) {
      rmSync(join(o.dir, l.name, segs[pruned[i]].uri), { force: true });
      gone.push(`${l.name}/${segs[pruned[i]].uri}`);
    }
  });
  return gone;
}

/** Seconds of the whole stream (the top layer's playlist). */
export function streamSeconds(o: HlsLiveOutput): number {
  const top = o.layers[0];
  return top ? readPlaylist(join(o.dir, top.name, 'index.m3u8')).segments.reduce((sum, s) => sum + s.duration, 0) : 0;
}

function inPause(s: PlaylistSegment, pauses: PausedSpan[]): boolean {
  if (s.programDateTime === null) return false;
  const mid = s.programDateTime + (s.duration * 1000) / 2;
  return pauses.some((p) => mid >= p.from && mid < (p.to ?? Infinity));
}

export interface KeptSegment extends PlaylistSegment {
  /** segments were left out (paused, or their file is gone) right before this one, or another encoder wrote it (a relaunch, a takeover) */
  gapBefore: boolean;
}

/** A recorded layer's segments still on disk, paused spans left out, with a gap mark where some were. */
export function keptSegments(o: HlsLiveOutput, layer: number, pauses: PausedSpan[]): KeptSegment[] {
  const name = o.layers[layer].name;
  let prev = -2;
  return readPlaylist(join(o.dir, name, 'index.m3u8'))
    .segments.map((s, n) => ({ ...s, n }))
    .filter((s) => !inPause(s, pauses) && existsSync(join(o.dir, name, s.uri)))
    .map(({ n, ...s }) => {
      const gapBefore = prev !== -2 && (n !== prev + 1 || s.tags.includes('#EXT-X-DISCONTINUITY'));
      prev = n;
      return { ...s, gapBefore };
    });
}
