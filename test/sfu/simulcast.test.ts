// Simulcast's pure parts: which layer a subscriber gets (chooseLayer), and where a VP8 keyframe starts and how
// big it is (vp8KeyframeStart), on hand-built and random inputs.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { cameraRids, chooseLayer, vp8KeyframeStart, type LayerState } from '../../src/sfu/simulcast.js';

const layers = (live = [true, true, true], bitrates = [150_000, 500_000, 1_500_000]): LayerState[] =>
  [320, 640, 1280].map((width, i) => ({ rid: `${'qhf'[i]}0`, width, bitrate: bitrates[i], live: live[i] }));

test('chooseLayer: the smallest layer wide enough for the tile; the widest when not told; only live ones', () => {
  assert.equal(chooseLayer(layers(), null), 'f0');
  assert.equal(chooseLayer(layers(), 1260), 'f0');
  assert.equal(chooseLayer(layers(), 620), 'h0');
  assert.equal(chooseLayer(layers(), 800), 'f0');
  assert.equal(chooseLayer(layers(), 170), 'q0');
  assert.equal(chooseLayer(layers(), 0), 'q0', 'a tile not shown: the smallest');
  assert.equal(chooseLayer(layers([true, true, false]), 1260), 'h0', 'the top layer is not sent: the next');
  assert.equal(chooseLayer(layers([false, false, false]), 620), null);
});

const link = (budget: number, current: string | null = null, blocked: string[] = [], floor: number | null = null) => ({ budget, current, blocked: new Set(blocked), floor });

test('chooseLayer: smaller layers while the chosen one does not fit in the link share, never below the smallest', () => {
  assert.equal(chooseLayer(layers(), 1260, link(1_000_000)), 'h0');
  assert.equal(chooseLayer(layers(), 1260, link(200_000)), 'q0');
  assert.equal(chooseLayer(layers(), 1260, link(50_000)), 'q0');
});

test('chooseLayer: one step up is tried while the estimate shows headroom, kept while it holds, not while blocked', () => {
  // on h0 (500 kbit/s) with an estimate of 700: f0 does not fit, but the link is not congested
  assert.equal(chooseLayer(layers(), 1260, link(700_000, 'h0')), 'f0');
  assert.equal(chooseLayer(layers(), 1260, link(700_000, 'h0', ['f0'])), 'h0', 'it failed lately');
  assert.equal(chooseLayer(layers(), 1260, link(600_000, 'h0')), 'h0', 'no headroom');
  assert.equal(chooseLayer(layers(), 1260, link(700_000, 'q0')), 'h0', 'one step at a time');
  // on f0 being tried at 700: kept while the estimate holds, left when it falls
  assert.equal(chooseLayer(layers(), 1260, link(680_000, 'f0', [], 700_000)), 'f0');
  assert.equal(chooseLayer(layers(), 1260, link(500_000, 'f0', [], 700_000)), 'h0');
});

test('chooseLayer on random layers: a live one, wide enough when one is, within budget unless the smallest', () => {
  const layer = fc.record({ width: fc.integer({ min: 0, max: 4000 }), bitrate: fc.integer({ min: 0, max: 5_000_000 }), live: fc.boolean() });
  fc.assert(
    fc.property(fc.array(layer, { minLength: 1, maxLength: 4 }), fc.option(fc.integer({ min: 0, max: 5000 })), fc.option(fc.integer({ min: 0, max: 5_000_000 })), (raw, wanted, budget) => {
      const ls = [...raw].sort((a, b) => a.width - b.width).map((l, i) => ({ ...l, rid: `r${i}` }));
      // (no current layer: nothing to try above)
      const rid = budget === null ? chooseLayer(ls, wanted) : chooseLayer(ls, wanted, link(budget));
      const live = ls.filter((l) => l.live);
      if (live.length === 0) return rid === null;
      const chosen = live.find((l) => l.rid === rid);
      if (!chosen) return false;
      if (budget !== null && chosen !== live[0] && chosen.bitrate > budget) return false;
      // without a budget: nothing smaller would have been wide enough
      if (budget === null && wanted !== null) return live.filter((l) => l.width > 0 && l.width >= wanted * 0.85 && l.width < chosen.width).length === 0;
      return true;
    }),
  );
});

/** A VP8 RTP payload: descriptor (S bit, partition 0) then a frame header; a keyframe carries its size. */
function vp8Payload(opts: { start: boolean; keyframe: boolean; width?: number; height?: number }): Buffer {
  const descriptor = Buffer.from([opts.start ? 0x10 : 0x00]);
  const tag = Buffer.from([opts.keyframe ? 0x00 : 0x01, 0x00, 0x00]);
  const key = opts.keyframe ? Buffer.from([0x9d, 0x01, 0x2a, 0, 0, 0, 0]) : Buffer.alloc(7);
  if (opts.keyframe) {
    key.writeUInt16LE(opts.width ?? 0, 3);
    key.writeUInt16LE(opts.height ?? 0, 5);
  }
  return Buffer.concat([descriptor, tag, key, Buffer.alloc(20)]);
}

test('vp8KeyframeStart: a keyframe\'s first packet gives its size; other packets nothing', () => {
  assert.deepEqual(vp8KeyframeStart(vp8Payload({ start: true, keyframe: true, width: 1280, height: 720 })), { width: 1280, height: 720 });
  assert.equal(vp8KeyframeStart(vp8Payload({ start: true, keyframe: false })), null);
  assert.equal(vp8KeyframeStart(vp8Payload({ start: false, keyframe: true, width: 1280, height: 720 })), null);
  assert.equal(vp8KeyframeStart(Buffer.from([0x10])), null);
  // with the extended descriptor: a 15-bit picture id, TL0PICIDX and TID (Chrome's simulcast layers carry them)
  const plain = vp8Payload({ start: true, keyframe: true, width: 640, height: 360 });
  const extended = Buffer.concat([Buffer.from([0x90, 0xe0, 0x80, 0x01, 0x05, 0x20]), plain.subarray(1)]);
  assert.deepEqual(vp8KeyframeStart(extended), { width: 640, height: 360 });
  // random bytes never throw
  fc.assert(fc.property(fc.uint8Array({ maxLength: 40 }), (b) => {
    // (found by this property: werift's parser threw on [0x98, 0x40, 0, 0])
    vp8KeyframeStart(Buffer.from(b));
    return true;
  }), { numRuns: 2000, examples: [[Uint8Array.from([0x98, 0x40, 0, 0])]] });
});

test('cameraRids: distinct across m-lines, alphanumeric, smallest first', () => {
  const all = [0, 1, 2].flatMap(cameraRids);
  assert.equal(new Set(all).size, all.length);
  for (const r of all) assert.match(r, /^[a-z0-9]{1,16}$/);
  assert.deepEqual(cameraRids(3), ['q3', 'h3', 'f3']);
});
