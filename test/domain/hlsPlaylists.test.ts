// Playlist text rules on the exact form ffmpeg's HLS muxer writes (EXTINF before PROGRAM-DATE-TIME).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { filterMaster, parseMediaPlaylist, slidingWindow, variantUris, vodPlaylist, withDateRanges } from '../../src/domain/hlsPlaylists.js';
import { layerNames } from '../../src/recorder/outputs/hlsLive.js';

const t0 = Date.parse('2026-11-20T22:34:00.396Z');
function eventPlaylist(n: number, ended = false): string {
  const lines = ['#EXTM3U', '#EXT-X-VERSION:6', '#EXT-X-TARGETDURATION:2', '#EXT-X-MEDIA-SEQUENCE:0', '#EXT-X-PLAYLIST-TYPE:EVENT', '#EXT-X-INDEPENDENT-SEGMENTS'];
  for (let i = 0; i < n; i++) {
    lines.push('#EXTINF:2.000000,', `#EXT-X-PROGRAM-DATE-TIME:${new Date(t0 + i * 2000).toISOString().replace('Z', '+0000')}`, `seg_${String(i).padStart(5, '0')}.ts`);
  }
  if (ended) lines.push('#EXT-X-ENDLIST');
  return lines.join('\n') + '\n';
}

test('parse: header, segments with duration and program date time, end', () => {
  const p = parseMediaPlaylist(eventPlaylist(3, true));
  assert.equal(p.header.length, 6);
  assert.deepEqual(p.segments.map((s) => [s.uri, s.duration, s.programDateTime]), [
    ['seg_00000.ts', 2, t0],
    ['seg_00001.ts', 2, t0 + 2000],
    ['seg_00002.ts', 2, t0 + 4000],
  ]);
  assert.equal(p.ended, true);
  assert.equal(parseMediaPlaylist(eventPlaylist(1)).ended, false);
  assert.ok(parseMediaPlaylist('#EXTM3U\n#EXT-X-DISCONTINUITY-SEQUENCE:2\n#EXTINF:2,\na.ts\n').header.includes('#EXT-X-DISCONTINUITY-SEQUENCE:2'));
});

test('sliding window: last N segments, media sequence counts the dropped ones, no EVENT type', () => {
  const w = slidingWindow(eventPlaylist(8), 5);
  const p = parseMediaPlaylist(w);
  assert.deepEqual(p.segments.map((s) => s.uri), ['seg_00003.ts', 'seg_00004.ts', 'seg_00005.ts', 'seg_00006.ts', 'seg_00007.ts']);
  assert.match(w, /^#EXTM3U\n#EXT-X-VERSION:6\n#EXT-X-TARGETDURATION:2\n#EXT-X-MEDIA-SEQUENCE:3\n/);
  assert.doesNotMatch(w, /PLAYLIST-TYPE/);
  assert.equal((w.match(/MEDIA-SEQUENCE/g) ?? []).length, 1);
  assert.equal(p.segments[0].programDateTime, t0 + 6000, 'each segment keeps its own tags');
  assert.match(slidingWindow(eventPlaylist(3), 5), /#EXT-X-MEDIA-SEQUENCE:0\n/);
  assert.match(slidingWindow(eventPlaylist(8, true), 5), /#EXT-X-ENDLIST\n$/);
});

test('date ranges: 100ms attribute order, before the first segment, expired ones left out, none without PDT', () => {
  const entries = [
    { id: 'old', created_at: new Date(t0 - 60_000).toISOString(), duration: 5, payload: 'gone' },
    { id: 'now', created_at: new Date(t0 + 3000).toISOString(), duration: 4, payload: 'hello, world' },
  ];
  const out = withDateRanges(eventPlaylist(3), entries);
  const lines = out.split('\n');
  const at = lines.findIndex((l) => l.startsWith('#EXT-X-DATERANGE'));
  assert.equal(lines[at], `#EXT-X-DATERANGE:ID="now",START-DATE="${new Date(t0 + 3000).toISOString()}",DURATION=4,X-100MSLIVE-PAYLOAD="hello, world"`);
  assert.equal(lines[at + 1], '#EXTINF:2.000000,');
  assert.doesNotMatch(out, /gone/);
  const noPdt = '#EXTM3U\n#EXTINF:2,\na.ts\n';
  assert.equal(withDateRanges(noPdt, entries), noPdt);
  assert.match(withDateRanges(eventPlaylist(1), [{ id: 'q', created_at: new Date(t0).toISOString(), duration: 1, payload: 'a"b\nc' }]), /X-100MSLIVE-PAYLOAD="abc"/);
});

test('VOD playlist: VOD type, ENDLIST, discontinuity at gaps, target duration rounds up', () => {
  const segs = parseMediaPlaylist(eventPlaylist(4)).segments;
  const vod = vodPlaylist([segs[0], segs[1], { ...segs[3], duration: 2.4, gapBefore: true }]);
  const p = parseMediaPlaylist(vod);
  assert.ok(p.ended);
  assert.match(vod, /#EXT-X-PLAYLIST-TYPE:VOD/);
  assert.match(vod, /#EXT-X-TARGETDURATION:3\n/);
  assert.deepEqual(p.segments.map((s) => [s.uri, s.tags.includes('#EXT-X-DISCONTINUITY')]), [
    ['seg_00000.ts', false],
    ['seg_00001.ts', false],
    ['seg_00003.ts', true],
  ]);
});

test('master: variants and filtering keep STREAM-INF with its URI', () => {
  const master = '#EXTM3U\n#EXT-X-VERSION:6\n#EXT-X-STREAM-INF:BANDWIDTH=2890800,RESOLUTION=1280x720,CODECS="avc1.42c01f,mp4a.40.2"\n720p/index.m3u8\n\n#EXT-X-STREAM-INF:BANDWIDTH=910800,RESOLUTION=640x360,CODECS="avc1.42c01e,mp4a.40.2"\n360p/index.m3u8\n';
  assert.deepEqual(variantUris(master), ['720p/index.m3u8', '360p/index.m3u8']);
  const only = filterMaster(master, (u) => u.startsWith('360p'));
  assert.deepEqual(variantUris(only), ['360p/index.m3u8']);
  assert.match(only, /RESOLUTION=640x360/);
  assert.doesNotMatch(only, /1280x720/);
});

test('layer names: height, or the full size when two layers share a height', () => {
  const l = (width: number, height: number) => ({ width, height, videoBitrate: 1, audioBitrate: 1 });
  assert.deepEqual(layerNames([l(1280, 720), l(854, 480), l(640, 360)]), ['720p', '480p', '360p']);
  assert.deepEqual(layerNames([l(1280, 720), l(960, 720), l(640, 360)]), ['1280x720', '960x720', '360p']);
});
