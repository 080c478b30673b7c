// HLS playlist text rules shared by the HLS route (live) and the VOD builder: timed metadata as
// EXT-X-DATERANGE, in the attribute order 100ms players parse (ID, START-DATE, DURATION, X-100MSLIVE-PAYLOAD).
// Pure text in, text out.

export interface TimedMetadataEntry {
  id: string;
  /** RFC3339: when it was sent, the wall-clock time it belongs to */
  created_at: string;
  /** seconds */
  duration: number;
  payload: string;
}

export function dateRangeTag(m: TimedMetadataEntry): string {
  // the API refuses '"' and control characters, which an HLS quoted-string cannot hold; strip defensively
  const payload = m.payload.replace(/["\u0000-\u001f\u007f]/g, '');
  return `#EXT-X-DATERANGE:ID="${m.id}",START-DATE="${new Date(m.created_at).toISOString()}",DURATION=${m.duration},X-100MSLIVE-PAYLOAD="${payload}"`;
}

/**
 * A media playlist with the timed metadata that still matters inserted before its first segment: entries
 * ending before the playlist's first EXT-X-PROGRAM-DATE-TIME are left out (they slid out of a live window).
 * Playlists without a program date time cannot carry date ranges (RFC 8216 §4.3.2.7) and come back unchanged.
 */
export function withDateRanges(playlist: string, entries: TimedMetadataEntry[]): string {
  if (entries.length === 0) return playlist;
  const lines = playlist.split('\n');
  const pdt = lines.find((l) => l.startsWith('#EXT-X-PROGRAM-DATE-TIME:'));
  if (!pdt) return playlist;
  const firstMs = Date.parse(pdt.slice('#EXT-X-PROGRAM-DATE-TIME:'.length).trim());
  const keep = entries.filter((m) => Number.isNaN(firstMs) || Date.parse(m.created_at) + m.duration * 1000 >= firstMs);
  if (keep.length === 0) return playlist;
  // before the first segment's tags: its PROGRAM-DATE-TIME if that comes first, else its EXTINF
  let at = lines.findIndex((l) => l.startsWith('#EXTINF:') || l.startsWith('#EXT-X-PROGRAM-DATE-TIME:'));
  if (at < 0) at = lines.length;
  lines.splice(at, 0, ...keep.map(dateRangeTag));
  return lines.join('\n');
}

/** A master playlist's variant URIs, in order (the lines after each #EXT-X-STREAM-INF). */
export function variantUris(master: string): string[] {
  const lines = master.split(/\r?\n/);
  const out: string[] = [];
  lines.forEach((l, i) => {
    if (l.startsWith('#EXT-X-STREAM-INF:') && lines[i + 1] && !lines[i + 1].startsWith('#')) out.push(lines[i + 1].trim());
  });
  return out;
}

export interface PlaylistSegment {
  uri: string;
  /** seconds (EXTINF) */
  duration: number;
  /** ms since the epoch from EXT-X-PROGRAM-DATE-TIME, null when the segment has none */
  programDateTime: number | null;
  /** the segment's own tag lines (EXTINF, PROGRAM-DATE-TIME, DISCONTINUITY…) in their order */
  tags: string[];
}

export interface MediaPlaylist {
  /** tag lines before the first segment */
  header: string[];
  segments: PlaylistSegment[];
  ended: boolean;
}

export function parseMediaPlaylist(text: string): MediaPlaylist {
  const header: string[] = [];
  const segments: PlaylistSegment[] = [];
  let tags: string[] = [];
  let ended = false;
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim();
    if (!line) continue;
    if (line === '#EXT-X-ENDLIST') {
      ended = true;
      continue;
    }
    if (line.startsWith('#')) {
      const segmentTag = /^#EXT(INF|-X-PROGRAM-DATE-TIME|-X-DISCONTINUITY|-X-BYTERANGE|-X-DATERANGE|-X-GAP|-X-KEY|-X-MAP|-X-BITRATE)(?=:|$)/.test(line);
      if (segments.length === 0 && !segmentTag && tags.length === 0) header.push(line);
      else tags.push(line);
      continue;
    }
    const inf = tags.find((t) => t.startsWith('#EXTINF:'));
    const pdt = tags.find((t) => t.startsWith('#EXT-X-PROGRAM-DATE-TIME:'));
    const pdtMs = pdt ? Date.parse(pdt.slice('#EXT-X-PROGRAM-DATE-TIME:'.length)) : NaN;
    segments.push({
      uri: line,
      duration: inf ? Number.parseFloat(inf.slice('#EXTINF:'.length)) || 0 : 0,
      programDateTime: Number.isNaN(pdtMs) ? null : pdtMs,
      tags,
    });
    tags = [];
  }
  return { header, segments, ended };
}

/**
 * A live playlist of the last `size` segments of a growing (EVENT) one: the media sequence counts the
 * segments left out, and the EVENT type goes (a sliding window is not an event playlist). The encoder
 * always writes the whole stream, so the VOD needs no second copy; players of a `live` stream see a window.
 */
export function slidingWindow(text: string, size: number): string {
  const p = parseMediaPlaylist(text);
  const drop = Math.max(0, p.segments.length - size);
  const header = p.header.filter((l) => !l.startsWith('#EXT-X-PLAYLIST-TYPE:') && !l.startsWith('#EXT-X-MEDIA-SEQUENCE:'));
  const at = Math.max(1, header.findIndex((l) => l.startsWith('#EXT-X-TARGETDURATION:')) + 1);
  header.splice(at, 0, `#EXT-X-MEDIA-SEQUENCE:${drop}`);
  const lines = [...header];
  for (const s of p.segments.slice(drop)) lines.push(...s.tags, s.uri);
  if (p.ended) lines.push('#EXT-X-ENDLIST');
  return lines.join('\n') + '\n';
}

/**
 * A VOD media playlist of the given segments (URIs as they should appear), with a discontinuity wherever
 * segments were left out (paused recording), the program date times kept (timed metadata needs them) and
 * #EXT-X-ENDLIST.
 */
export function vodPlaylist(segments: Array<PlaylistSegment & { gapBefore?: boolean }>, version = 6): string {
  const target = Math.max(1, ...segments.map((s) => Math.ceil(s.duration)));
  const lines = ['#EXTM3U', `#EXT-X-VERSION:${version}`, `#EXT-X-TARGETDURATION:${target}`, '#EXT-X-MEDIA-SEQUENCE:0', '#EXT-X-PLAYLIST-TYPE:VOD', '#EXT-X-INDEPENDENT-SEGMENTS'];
  segments.forEach((s, i) => {
    if (s.gapBefore && i > 0) lines.push('#EXT-X-DISCONTINUITY');
    lines.push(`#EXTINF:${s.duration.toFixed(6)},`);
    if (s.programDateTime !== null) lines.push(`#EXT-X-PROGRAM-DATE-TIME:${new Date(s.programDateTime).toISOString()}`);
    lines.push(s.uri);
  });
  lines.push('#EXT-X-ENDLIST');
  return lines.join('\n') + '\n';
}

/** A master playlist keeping only the variants whose URI passes `keep` (their STREAM-INF lines with them). */
export function filterMaster(master: string, keep: (uri: string) => boolean): string {
  const lines = master.split(/\r?\n/);
  const out: string[] = [];
  for (let i = 0; i < lines.length; i++) {
    const l = lines[i];
    if (l.startsWith('#EXT-X-STREAM-INF:')) {
      const uri = (lines[i + 1] ?? '').trim();
      if (keep(uri)) out.push(l, uri);
      i++;
      continue;
    }
    if (l.trim()) out.push(l);
  }
  return out.join('\n') + '\n';
}
