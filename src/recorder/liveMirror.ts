// A fleet's live stream goes to its store as it is encoded, so that any node serves it (api/hls.ts reads it
// there when the stream is not on its own disk) and a machine that takes the job over goes on with it: each
// finished segment goes up as soon as its playlist names it, then the playlist that names it (so the store's
// playlists never name a segment it lacks), and the master once. Segments a `live` stream no longer needs
// (pruned on disk) are deleted there too.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { Logger } from '../logger.js';
import type { PartsPlace } from '../storage/parts.js';
import { StoreSender } from './storeSender.js';
import { readPlaylist } from './outputs/hlsLive.js';
import type { HlsLiveOutput } from './jobSpec.js';
import { parseMediaPlaylist } from '../domain/hlsPlaylists.js';

/** how often new segments are looked for (a segment lasts 2 s: players see it within this of its end) */
export const MIRROR_INTERVAL_MS = 250;
const MASTER = 'master.m3u8';
/** segments fetched side by side by a restore */
const RESTORE_AT_ONCE = 8;

const playlistOf = (layer: string) => `${layer}/index.m3u8`;

export class LiveMirror extends StoreSender {
  /** "720p/seg_00001.ts" of segments in the store */
  private readonly sent = new Set<string>();
  /** playlist text last put, by file ("master.m3u8", "720p/index.m3u8") */
  private readonly texts = new Map<string, string>();
  private readonly pruned: string[] = [];

  /** `inStore`: segments the store has already (a takeover's restored playlists name them, their files are not here) */
  constructor(
    private readonly place: PartsPlace,
    private readonly live: HlsLiveOutput,
    log: Logger,
    inStore: string[] = [],
  ) {
    super(log, MIRROR_INTERVAL_MS, 'live stream');
    for (const s of inStore) this.sent.add(s);
  }

  /** Segments the window left (deleted on disk): deleted in the store at the next send. */
  prune(gone: string[]): void {
    this.pruned.push(...gone);
  }

  protected async send(): Promise<void> {
    const { store, prefix } = this.place;
    // the layers side by side: a segment's three renditions reach players together
    await Promise.all(this.live.layers.map(async (l) => {
      const file = join(this.live.dir, playlistOf(l.name));
      if (!existsSync(file)) return;
      const text = readFileSync(file, 'utf8');
      if (text === this.texts.get(playlistOf(l.name))) return;
      for (const s of parseMediaPlaylist(text).segments) {
        const rel = `${l.name}/${s.uri}`;
        if (this.sent.has(rel) || !existsSync(join(this.live.dir, rel))) continue;
        await store.putBytes(prefix + rel, readFileSync(join(this.live.dir, rel)));
        this.sent.add(rel);
      }
      await store.putBytes(prefix + playlistOf(l.name), Buffer.from(text));
      this.texts.set(playlistOf(l.name), text);
    }));
    const master = join(this.live.dir, MASTER);
    if (existsSync(master) && !this.texts.has(MASTER)) {
      const text = readFileSync(master, 'utf8');
      await store.putBytes(prefix + MASTER, Buffer.from(text));
      this.texts.set(MASTER, text);
    }
    while (this.pruned.length > 0) {
      await store.delete(prefix + this.pruned[0]);
      this.pruned.shift();
    }
  }
}

async function bring(place: PartsPlace, live: HlsLiveOutput, rel: string): Promise<void> {
  const file = join(live.dir, rel);
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, await place.store.getBytes(place.prefix + rel));
}

/**
 * Brings the stream's playlists (and master) from the store into its live dir, so that the next encoder goes
 * on with them; returns the segments they name ("720p/seg_00001.ts"): any means it was encoded elsewhere.
 */
export async function restoreLivePlaylists(place: PartsPlace, live: HlsLiveOutput): Promise<string[]> {
  const keys = new Set((await place.store.list(place.prefix)).map((o) => o.key.slice(place.prefix.length)));
  const segments: string[] = [];
  for (const l of live.layers) {
    const rel = playlistOf(l.name);
    if (!keys.has(rel)) continue;
    await bring(place, live, rel);
    for (const s of readPlaylist(join(live.dir, rel)).segments) segments.push(`${l.name}/${s.uri}`);
  }
  if (keys.has(MASTER)) await bring(place, live, MASTER);
  return segments;
}

/** Brings those of the segments not here from the store (what the stream's VOD and per-layer files are made of); returns how many. */
export async function restoreLiveSegments(place: PartsPlace, live: HlsLiveOutput, segments: string[]): Promise<number> {
  const keys = new Set((await place.store.list(place.prefix)).map((o) => o.key.slice(place.prefix.length)));
  const missing = segments.filter((rel) => keys.has(rel) && !existsSync(join(live.dir, rel)));
  for (let i = 0; i < missing.length; i += RESTORE_AT_ONCE) await Promise.all(missing.slice(i, i + RESTORE_AT_ONCE).map((rel) => bring(place, live, rel)));
  return missing.length;
}
