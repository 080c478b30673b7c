// A fleet's live streams as a node reads them from the store (recorder/liveMirror.ts puts them there): the
// HLS route serves a stream from here when it is not on the node's own disk. Many players ask for the same
// playlist every second or two: one read of it serves them for PLAYLIST_TTL_MS; segments never change, so the
// last few read are kept. A store client per stream is kept while it is asked for.
import type { PartsPlace } from './parts.js';

/** a playlist read from the store serves every player asking within this */
const PLAYLIST_TTL_MS = 500;
/** segments kept in memory (a 2 s segment of a 3-layer ladder: ~1 MB in all) */
const SEGMENTS_KEPT = 48;
/** a stream's store client is dropped after this without requests */
const PLACE_IDLE_MS = 60_000;

/** The store said the object is not there (S3 NoSuchKey / 404, Azure BlobNotFound / 404, a missing local file). */
export function isNotFound(err: unknown): boolean {
  const e = err as { name?: string; code?: string; Code?: string; statusCode?: number; $metadata?: { httpStatusCode?: number } };
  const status = e?.$metadata?.httpStatusCode ?? e?.statusCode;
  return status === 404 || [e?.name, e?.code, e?.Code].some((n) => n === 'NoSuchKey' || n === 'NotFound' || n === 'BlobNotFound' || n === 'ENOENT');
}

interface Read {
  at: number;
  body: Promise<Buffer | null>;
}

export class LiveFilesInStore {
  private readonly places = new Map<string, { at: number; place: Promise<PartsPlace | null> }>();
  private readonly reads = new Map<string, Read>();
  private readonly sweeper: NodeJS.Timeout;

  constructor(private readonly placeOf: (roomId: string, streamId: string) => Promise<PartsPlace | null>) {
    this.sweeper = setInterval(() => this.sweep(), PLACE_IDLE_MS);
    this.sweeper.unref();
  }

  /** The file's bytes ("master.m3u8", "720p/seg_00003.ts"), or null when the store does not have it (or there is no store). */
  async read(roomId: string, streamId: string, rel: string): Promise<Buffer | null> {
    const id = `${streamId}/${rel}`;
    const now = Date.now();
    const playlist = rel.endsWith('.m3u8');
    const cached = this.reads.get(id);
    if (cached && (!playlist || now - cached.at < PLAYLIST_TTL_MS)) return cached.body;
    const body = this.fetch(roomId, streamId, rel);
    this.reads.set(id, { at: now, body });
    // a failure or an absence is not kept: the next request asks again
    body.then((b) => b === null && this.reads.delete(id), () => this.reads.delete(id));
    this.trim();
    return body;
  }

  close(): void {
    clearInterval(this.sweeper);
    for (const { place } of this.places.values()) void place.then((p) => p?.store.close(), () => undefined);
    this.places.clear();
    this.reads.clear();
  }

  private async fetch(roomId: string, streamId: string, rel: string): Promise<Buffer | null> {
    const place = await this.placeFor(roomId, streamId);
    if (!place) return null;
    try {
      return await place.store.getBytes(place.prefix + rel);
    } catch (err) {
      if (isNotFound(err)) return null;
      throw err;
    }
  }

  private placeFor(roomId: string, streamId: string): Promise<PartsPlace | null> {
    const known = this.places.get(streamId);
    if (known) {
      known.at = Date.now();
      return known.place;
    }
    const place = this.placeOf(roomId, streamId);
    this.places.set(streamId, { at: Date.now(), place });
    place.catch(() => this.places.delete(streamId));
    return place;
  }

  /** Only the newest segments stay (Map keeps insertion order); playlists past their TTL go. */
  private trim(): void {
    const now = Date.now();
    let segments = 0;
    for (const [id, r] of [...this.reads].reverse()) {
      if (id.endsWith('.m3u8') ? now - r.at >= PLAYLIST_TTL_MS : ++segments > SEGMENTS_KEPT) this.reads.delete(id);
    }
  }

  private sweep(): void {
    const now = Date.now();
    for (const [id, p] of this.places) {
      if (now - p.at < PLACE_IDLE_MS) continue;
      this.places.delete(id);
      void p.place.then((x) => x?.store.close(), () => undefined);
    }
  }
}
