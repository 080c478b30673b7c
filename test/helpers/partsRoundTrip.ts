// A recording streamed to a store while it records comes back whole (recorder/streamedParts.ts), on whatever
// store the test gives: a segment written in three goes and sent after each, plus gaps.json, rebuilt in a fresh
// work dir byte for byte; then the parts removed.
import assert from 'node:assert/strict';
import { appendFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AssetStore } from '../../src/storage/store.js';
import { removeParts } from '../../src/storage/parts.js';
import { PartStreamer, restoreParts } from '../../src/recorder/streamedParts.js';
import { createLogger } from '../../src/logger.js';
import { LiveMirror, restoreLivePlaylists, restoreLiveSegments } from '../../src/recorder/liveMirror.js';
import { LiveFilesInStore } from '../../src/storage/liveFiles.js';

export async function partsRoundTrip(store: AssetStore, prefix: string): Promise<void> {
  const place = { store, prefix: `${prefix}/.parts/job-${Date.now()}/` };
  const from = mkdtempSync(join(tmpdir(), 'parts-from-'));
  const to = mkdtempSync(join(tmpdir(), 'parts-to-'));
  try {
    const segment = join(from, 'attempt-1', 'segment-0000.mp4');
    mkdirSync(join(from, 'attempt-1'));
    const streamer = new PartStreamer(place, from, createLogger('silent'));
    writeFileSync(segment, randomBytes(100_000));
    assert.equal(await streamer.flush(), true);
    appendFileSync(segment, randomBytes(50_000));
    writeFileSync(join(from, 'gaps.json'), '[]');
    assert.equal(await streamer.flush(), true);
    appendFileSync(segment, randomBytes(1000));
    assert.equal(await streamer.flush(), true);
    assert.equal((await store.list(place.prefix)).length, 4, 'three parts of the segment and gaps.json');

    const restored = await restoreParts(place, to);
    assert.deepEqual(restored, { segments: 1, bytes: 151_000, lastAttempt: 1 });
    assert.ok(readFileSync(join(to, 'attempt-1', 'segment-0000.mp4')).equals(readFileSync(segment)), 'the segment comes back byte for byte');
    assert.equal(readFileSync(join(to, 'gaps.json'), 'utf8'), '[]');
    // a work dir that has the segment as long already keeps its own
    assert.equal((await restoreParts(place, to)).segments, 0);

    assert.equal(await removeParts(place), 4);
    assert.deepEqual(await store.list(place.prefix), []);
  } finally {
    rmSync(from, { recursive: true, force: true });
    rmSync(to, { recursive: true, force: true });
  }
}

/**
 * A fleet's live stream mirrored to a store (recorder/liveMirror.ts) and read back as a node does
 * (storage/liveFiles.ts): segments before the playlist naming them, each once; a pruned segment deleted; a
 * takeover's restore of the playlists and of the segments still there.
 */
export async function liveRoundTrip(store: AssetStore, prefix: string): Promise<void> {
  const streamId = `live-${Date.now()}`;
  const place = { store, prefix: `${prefix}/.live/${streamId}/` };
  const from = mkdtempSync(join(tmpdir(), 'live-from-'));
  const to = mkdtempSync(join(tmpdir(), 'live-to-'));
  const live = { kind: 'hlsLive' as const, dir: from, layers: [{ name: '720p', width: 1280, height: 720, videoBitrateKbps: 2000 }], audioBitrateKbps: 128, segmentSeconds: 2, playlistType: 'live' as const, windowSegments: 5, prunable: true };
  const reader = new LiveFilesInStore(async () => ({ store, prefix: place.prefix }));
  const playlist = (n: number, ended = false) =>
    ['#EXTM3U', '#EXT-X-TARGETDURATION:2', ...Array.from({ length: n }, (_, i) => [`#EXTINF:2.000000,`, `seg_0000${i}.ts`]).flat(), ...(ended ? ['#EXT-X-ENDLIST'] : [])].join('\n') + '\n';
  try {
    mkdirSync(join(from, '720p'));
    writeFileSync(join(from, 'master.m3u8'), '#EXTM3U\n#EXT-X-STREAM-INF:BANDWIDTH=2000000\n720p/index.m3u8\n');
    const segs = [0, 1, 2].map(() => randomBytes(20_000));
    segs.slice(0, 2).forEach((b, i) => writeFileSync(join(from, '720p', `seg_0000${i}.ts`), b));
    writeFileSync(join(from, '720p', 'index.m3u8'), playlist(2));
    const mirror = new LiveMirror(place, live, createLogger('silent'));
    assert.equal(await mirror.flush(), true);
    assert.equal((await store.list(place.prefix)).length, 4, 'master, playlist, two segments');
    writeFileSync(join(from, '720p', 'seg_00002.ts'), segs[2]);
    writeFileSync(join(from, '720p', 'index.m3u8'), playlist(3, true));
    mirror.prune(['720p/seg_00000.ts']);
    assert.equal(await mirror.flush(), true);
    assert.deepEqual((await store.list(place.prefix)).map((o) => o.key.slice(place.prefix.length)).sort(), ['720p/index.m3u8', '720p/seg_00001.ts', '720p/seg_00002.ts', 'master.m3u8']);

    // a node reads it: the playlist as written, the segments byte for byte, an absent file as null
    assert.equal((await reader.read('room', streamId, '720p/index.m3u8'))?.toString(), playlist(3, true));
    assert.ok((await reader.read('room', streamId, '720p/seg_00002.ts'))?.equals(segs[2]));
    assert.equal(await reader.read('room', streamId, '720p/seg_00009.ts'), null);
    assert.equal(await reader.read('room', streamId, '720p/seg_00000.ts'), null, 'a pruned segment is gone from the store');

    // a takeover: the playlists first (the next encoder appends to them), then the segments still in the store
    const restored = await restoreLivePlaylists(place, { ...live, dir: to });
    assert.deepEqual(restored, ['720p/seg_00000.ts', '720p/seg_00001.ts', '720p/seg_00002.ts']);
    assert.equal(readFileSync(join(to, '720p', 'index.m3u8'), 'utf8'), playlist(3, true));
    assert.ok(existsSync(join(to, 'master.m3u8')));
    assert.equal(await restoreLiveSegments(place, { ...live, dir: to }, restored), 2);
    assert.ok(readFileSync(join(to, '720p', 'seg_00001.ts')).equals(segs[1]));
    assert.equal(await removeParts(place), 4);
  } finally {
    reader.close();
    rmSync(from, { recursive: true, force: true });
    rmSync(to, { recursive: true, force: true });
  }
}
