// A recording goes to its store while it records: about every second, what the encoder appended to each MP4
// segment since the last time goes up as one object (<parts>/<attempt>/<segment file>/<offset>), and the
// job's gaps.json when it changed. The segments are fragmented MP4 written front to back, so the objects of
// a segment, joined in offset order, are the segment as it was when the last one went up. A machine that
// dies loses only what was not up yet (the fragment being built and at most a second more); whoever takes the
// job over restores the segments from the store into its own work dir and goes on from there.
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, readSync, statSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import type { Logger } from '../logger.js';
import type { PartsPlace } from '../storage/parts.js';
import { describeStoreError } from '../storage/index.js';
import { mp4Segments } from './outputs/mp4File.js';

/** how often what was written goes up (the most a dead machine loses on top of the fragment being built) */
export const PARTS_INTERVAL_MS = 1000;
const GAPS = 'gaps.json';
const OFFSET_DIGITS = 14;

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

export class PartStreamer {
  /** bytes of each segment (by "attempt-n/segment-nnnn.mp4") already in the store */
  private readonly sent = new Map<string, number>();
  private gapsSent = '';
  private busy: Promise<void> | null = null;
  private lastAt = 0;
  private failing = false;

  constructor(
    private readonly place: PartsPlace,
    private readonly workDir: string,
    private readonly log: Logger,
  ) {}

  /** Sends what was written since the last time, at most once per interval and one send at a time (a failed send is retried at the next). */
  tick(): void {
    if (this.busy || Date.now() - this.lastAt < PARTS_INTERVAL_MS) return;
    this.lastAt = Date.now();
    this.busy = this.send()
      .then(() => {
        if (this.failing) this.log.info('the recording reaches its store again');
        this.failing = false;
      })
      .catch((err) => {
        if (!this.failing) this.log.warn({ err: describeStoreError(err) }, 'could not send the recording\'s latest part to its store (the local file has it; retrying)');
        this.failing = true;
      })
      .finally(() => (this.busy = null));
  }

  /**
   * Sends everything written (the capture has stopped): true once the store holds it all, false when it could
   * not within `timeoutMs` (the local files still have it).
   */
  async flush(timeoutMs = 10_000): Promise<boolean> {
    await this.busy;
    const until = Date.now() + timeoutMs;
    for (;;) {
      try {
        await this.send();
        return true;
      } catch (err) {
        if (Date.now() >= until) {
          this.log.warn({ err: describeStoreError(err) }, 'could not send the rest of the recording to its store');
          return false;
        }
        await new Promise((r) => setTimeout(r, 500));
      }
    }
  }

  /** Waits for a send in flight. */
  async close(): Promise<void> {
    await this.busy;
  }

  private async send(): Promise<void> {
    for (const s of mp4Segments(this.workDir)) {
      const rel = `${s.attempt}/${basename(s.file)}`;
      const from = this.sent.get(rel) ?? 0;
      const size = statSync(s.file).size;
      if (size <= from) continue;
      const bytes = readRange(s.file, from, size);
      await this.place.store.putBytes(`${this.place.prefix}${rel}/${String(from).padStart(OFFSET_DIGITS, '0')}`, bytes);
      this.sent.set(rel, from + bytes.length);
    }
    const gapsFile = join(this.workDir, GAPS);
    const gaps = existsSync(gapsFile) ? readFileSync(gapsFile, 'utf8') : '';
    if (gaps && gaps !== this.gapsSent) {
      await this.place.store.putBytes(`${this.place.prefix}${GAPS}`, Buffer.from(gaps));
      this.gapsSent = gaps;
    }
  }
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
  const bySegment = new Map<string, { offset: number; key: string }[]>();
  let gapsKey: string | null = null;
  for (const o of objects) {
    const rel = o.key.slice(place.prefix.length);
    if (rel === GAPS) gapsKey = o.key;
    const m = /^(attempt-\d+\/segment-\d+\.mp4)\/(\d+)$/.exec(rel);
    if (!m) continue;
    const list = bySegment.get(m[1]) ?? [];
    list.push({ offset: Number(m[2]), key: o.key });
    bySegment.set(m[1], list);
  }
  const out: RestoredParts = { segments: 0, bytes: 0, lastAttempt: 0 };
  for (const [rel, parts] of bySegment) {
    const chunks: Buffer[] = [];
    let length = 0;
    for (const p of parts.sort((a, b) => a.offset - b.offset)) {
      if (p.offset !== length) break;
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
