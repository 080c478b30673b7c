// The publisher's NTP↔RTP mapping carried forward to each SR the SFU sends: every report is a new point on the
// publisher's own line (a browser needs two distinct points before it lip-syncs), and audio and video of one
// publisher carried forward by the same time keep the relation the publisher reported.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { carryForward, type PublisherClock } from '../../src/sfu/senderReports.js';

const NTP_UNIT = 2 ** 32;
const clockArb = fc.record({
  ntp: fc.bigInt({ min: 1n << 32n, max: (1n << 63n) - 1n }),
  rtp: fc.integer({ min: 0, max: 2 ** 32 - 1 }),
  receivedAtMs: fc.double({ min: 0, max: 1e9, noNaN: true }),
  clockRate: fc.constantFrom(48000, 90000),
});

test('carryForward: NTP and RTP advance together at the clock rate, modulo 2^32 for RTP', () => {
  fc.assert(
    fc.property(clockArb, fc.double({ min: 0, max: 3_600_000, noNaN: true }), (c: PublisherClock, elapsedMs) => {
      const m = carryForward(c, c.receivedAtMs + elapsedMs);
      const ntpMs = (Number(m.ntp - c.ntp) / NTP_UNIT) * 1000;
      assert.ok(Math.abs(ntpMs - elapsedMs) < 0.01, `ntp moved ${ntpMs} ms for ${elapsedMs}`);
      const ticks = (m.rtp - c.rtp + 2 ** 32) % 2 ** 32;
      const want = Math.round((elapsedMs * c.clockRate) / 1000) % 2 ** 32;
      assert.equal(ticks, want);
      assert.ok(m.rtp >= 0 && m.rtp < 2 ** 32);
    }),
  );
});

test('carryForward: two reports at different times are two distinct points; a report before the SR arrived is the SR itself', () => {
  const c: PublisherClock = { ntp: 3_900_000_000n << 32n, rtp: 4_294_967_000, receivedAtMs: 1000, clockRate: 48000 };
  const a = carryForward(c, 1500);
  const b = carryForward(c, 1650);
  assert.notEqual(a.ntp, b.ntp);
  assert.equal((b.rtp - a.rtp + 2 ** 32) % 2 ** 32, 7200); // 150 ms at 48 kHz, across the RTP wrap
  assert.deepEqual(carryForward(c, 900), { ntp: c.ntp, rtp: c.rtp });
});
