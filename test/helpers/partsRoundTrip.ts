// A recording streamed to a store while it records comes back whole (recorder/streamedParts.ts), on whatever
// store the test gives: a segment written in three goes and sent after each, plus gaps.json, rebuilt in a fresh
// work dir byte for byte; then the parts removed.
import assert from 'node:assert/strict';
import { appendFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AssetStore } from '../../src/storage/store.js';
import { removeParts } from '../../src/storage/parts.js';
import { PartStreamer, restoreParts } from '../../src/recorder/streamedParts.js';
import { createLogger } from '../../src/logger.js';

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
