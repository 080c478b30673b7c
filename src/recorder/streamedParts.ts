// A recording goes to its store while it records: about every second, what the encoder appended to each MP4
// segment since the last time goes up as one object (<parts>/<attempt>/<segment file>/<offset>), and the
// job's gaps.json when it changed. The segments are fragmented MP4 written front to back, so the objects of
// a segment, joined in offset order, are the segment as it was when the last one went up. A machine that
// dies loses only what was not up yet (the fragment being built and at most a second more); whoever takes the
// job over restores the segments from the store into its own work dir and goes on from there.
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, readSync, statSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import type { Logger } from '../logger.js';
import { segmentPartKey, segmentPartsOf, type PartsPlace } from '../storage/parts.js';
import { StoreSender } from './storeSender.js';
import { mp4Segments } from './outputs/mp4File.js';

/** how often what was written goes up (the most a dead machine loses on top of the fragment being built) */
export const PARTS_INTERVAL_MS = 1000;
/**
 * Once this much has gone up in small parts, it goes up again as one part replacing them: the upload at the
 * stop copies such parts inside the store (S3 copies parts of 5 MiB or more) and sends only the rest.
 */
export const SEAL_BYTES = 8 * 1024 * 1024;
const GAPS = 'gaps.json';

function readRange(file: string, from: number, to: number): Buffer {
  const fd = openSync(file, 'r');
  try {
    const buf = Buffer.allocUnsafe(to - from);
    let got = 0;
    while (got < buf.length) {
      const n = readSync(fd, buf, got, buf.length - got, from + got);
      if (n === 0) break;
      got += n;
    }
    return buf.subarray(0, got);
  } finally {
    closeSync(fd);
  }
}

export class PartStreamer extends StoreSender {
  /** per segment ("attempt-n/segment-nnnn.mp4"): bytes in the store, and how many of them are in sealed parts */
  private readonly sent = new Map<string, { bytes: number; sealed: number; small: number[] }>();
  private gapsSent = '';

  constructor(
    private readonly place: PartsPlace,
    private readonly workDir: string,
    log: Logger,
  ) {
    super(log, PARTS_INTERVAL_MS, 'recording');
  }

  protected async send(): Promise<void> {
    for (const s of mp4Segments(this.workDir)) {
      const rel = `${s.attempt}/${basename(s.file)}`;
      const st = this.sent.get(rel) ?? { bytes: 0, sealed: 0, small: [] };
      this.sent.set(rel, st);
      const size = statSync(s.file).size;
      if (size <= st.bytes) continue;
      const bytes = readRange(s.file, st.bytes, size);
      await this.place.store.putBytes(segmentPartKey(this.place.prefix, rel, st.bytes), bytes);
      st.small.push(st.bytes);
      st.bytes += bytes.length;
      if (st.bytes - st.sealed >= SEAL_BYTES) await sealParts(this.place, s.file, rel, st);
    }
    const gapsFile = join(this.workDir, GAPS);
    const gaps = existsSync(gapsFile) ? readFileSync(gapsFile, 'utf8') : '';
    if (gaps && gaps !== this.gapsSent) {
      await this.place.store.putBytes(`${this.place.prefix}${GAPS}`, Buffer.from(gaps));
      this.gapsSent = gaps;
    }
  }
}

/**
 * The small parts since the last seal, sent again as one under the first one's key (a PUT replaces it whole),
 * then the others removed; a crash in between leaves parts a restore skips (they lie inside the sealed one).
 */
async function sealParts(place: PartsPlace, file: string, rel: string, st: { bytes: number; sealed: number; small: number[] }): Promise<void> {
  await place.store.putBytes(segmentPartKey(place.prefix, rel, st.sealed), readRange(file, st.sealed, st.bytes));
  for (const offset of st.small) if (offset !== st.sealed) await place.store.delete(segmentPartKey(place.prefix, rel, offset));
  st.sealed = st.bytes;
  st.small = [];
}

/** What a takeover found of the job in its store. */
export interface RestoredParts {
  /** segment files written into the work dir (ones it had as long already are kept): more than 0 means the job was recorded on another machine */
  segments: number;
  bytes: number;
  /** the highest attempt number in the store (0: none) */
  lastAttempt: number;
}

/**
 * Rebuilds the job's segments (and gaps.json) from its parts into `workDir`. A segment's objects are joined
 * while their offsets follow on; a local file at least as long is kept as it is.
 */
export async function restoreParts(place: PartsPlace, workDir: string): Promise<RestoredParts> {
  const objects = await place.store.list(place.prefix);
  const gapsKey = objects.find((o) => o.key === `${place.prefix}${GAPS}`)?.key ?? null;
  const out: RestoredParts = { segments: 0, bytes: 0, lastAttempt: 0 };
  for (const [rel, parts] of segmentPartsOf(place.prefix, objects)) {
    const chunks: Buffer[] = [];
    let length = 0;
    for (const p of parts) {
      // a small part a seal left behind lies inside the sealed one before it
      if (p.offset < length) continue;
      if (p.offset > length) break;
      const bytes = await place.store.getBytes(p.key);
      chunks.push(bytes);
      length += bytes.length;
    }
    if (length > 0) out.lastAttempt = Math.max(out.lastAttempt, Number(/^attempt-(\d+)/.exec(rel)![1]));
    const file = join(workDir, rel);
    if (length === 0 || (existsSync(file) && statSync(file).size >= length)) continue;
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, Buffer.concat(chunks));
    out.segments++;
    out.bytes += length;
  }
  const gapsFile = join(workDir, GAPS);
  if (gapsKey && !existsSync(gapsFile)) {
    mkdirSync(workDir, { recursive: true });
    writeFileSync(gapsFile, await place.store.getBytes(gapsKey));
  }
  return out;
}
