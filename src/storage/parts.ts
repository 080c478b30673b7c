// Where a recording's bytes wait in its store while it records (recorder/streamedParts.ts writes them): under
// <prefix>/.parts/<job id>/ in the bucket the asset goes to. They are only a safety copy: the asset is built
// from them when the machine recording it died, and they are removed once the asset itself is in the store.
import { createHash } from 'node:crypto';
import { createReadStream, statSync } from 'node:fs';
import type { AssetStore, StoredObject, StoredRange, UploadTarget } from './store.js';

/** A job's parts: the store client and the key prefix (ending in '/') they are written under. */
export interface PartsPlace {
  store: AssetStore;
  prefix: string;
}

export function partsPrefixOf(target: Pick<UploadTarget, 'prefix'>, jobId: string): string {
  return `${target.prefix}/.parts/${jobId}/`;
}

/** Where a fleet's live stream is mirrored while it runs (recorder/liveMirror.ts): master.m3u8, <layer>/… */
export function livePrefixOf(target: Pick<UploadTarget, 'prefix'>, streamId: string): string {
  return `${target.prefix}/.live/${streamId}/`;
}

/** One part: the MP4 segment it belongs to ("attempt-1/segment-0000.mp4") and where in it it starts. */
export interface SegmentPart extends StoredObject {
  segment: string;
  offset: number;
}

const PART_KEY = /^(attempt-\d+\/segment-\d+\.mp4)\/(\d+)$/;

/** A segment part's key under the job's prefix (offsets zero-padded, so keys sort in offset order). */
export function segmentPartKey(prefix: string, segment: string, offset: number): string {
  return `${prefix}${segment}/${String(offset).padStart(14, '0')}`;
}

/** The segment parts among a listing of the job's prefix, by segment, each in offset order. */
export function segmentPartsOf(prefix: string, objects: StoredObject[]): Map<string, SegmentPart[]> {
  const out = new Map<string, SegmentPart[]>();
  for (const o of objects) {
    const m = PART_KEY.exec(o.key.slice(prefix.length));
    if (!m) continue;
    out.set(m[1], [...(out.get(m[1]) ?? []), { ...o, segment: m[1], offset: Number(m[2]) }]);
  }
  for (const parts of out.values()) parts.sort((a, b) => a.offset - b.offset);
  return out;
}

async function md5OfRange(file: string, offset: number, size: number): Promise<string> {
  const hash = createHash('md5');
  for await (const chunk of createReadStream(file, { start: offset, end: offset + size - 1 })) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

/**
 * The leading ranges of a recording's file that its parts already hold in the store: those of its one segment
 * (a recording of several is joined anew, so its bytes differ), in order from byte 0, as long as the file has
 * them. The first and the last are checked against the file (MD5 = the part's ETag): the file is the segment
 * they were read from, only ever appended to, unless something rewrote it (a cut remuxes it: its first bytes
 * change), and an hour of parts is not read again at the stop. None when they do not match: the whole file goes.
 * The upload at the stop copies them inside the store (S3AssetStore).
 */
export async function streamedRanges(place: PartsPlace, file: string): Promise<StoredRange[]> {
  const segments = segmentPartsOf(place.prefix, await place.store.list(place.prefix));
  if (segments.size !== 1) return [];
  const size = statSync(file).size;
  const out: SegmentPart[] = [];
  let at = 0;
  for (const p of [...segments.values()][0]) {
    if (p.offset !== at || at + p.size > size || !p.etag) break;
    out.push(p);
    at += p.size;
  }
  for (const p of new Set([out[0], out.at(-1)])) if (p && p.etag !== (await md5OfRange(file, p.offset, p.size))) return [];
  return out.map((p) => ({ key: p.key, offset: p.offset, size: p.size }));
}

/** Removes every part of a job (the asset is stored, or the job made none). */
export async function removeParts(place: PartsPlace): Promise<number> {
  const objects = await place.store.list(place.prefix);
  for (const o of objects) await place.store.delete(o.key);
  return objects.length;
}
