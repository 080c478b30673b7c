// Lip sync end to end: a publisher whose camera flashes while its microphone beeps, a receiving peer, and an
// 18 s composite recording by the server's recorder. Loose bounds, so that a regression (tracks in separate
// streams, SRs from the SFU's own clock, a capture offset) fails while a loaded machine's wander does not.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runSyncScenario } from '../helpers/syncScenario.js';

// The receiving page holds issue 11's loose bound. The composite MP4 does not yet: on a quiet machine its
// audio wanders from ~+800 ms to ~−100 ms within 18 s (the recorder's Chromium → pulse / x11grab path, still
// open in issue 11), so it is measured and printed here, and asserted once that is fixed.
const RECEIVER_BOUND_MS = 120;

test('audio and video of a peer stay together on the receiving page; the composite MP4 offset is measured', async () => {
  const run = await runSyncScenario({ seconds: 18 });
  console.log(`# ${JSON.stringify({ receiver_vs_source: run.receiver_vs_source, composite_vs_source: run.composite_vs_source, composite_mp4: run.composite_mp4 })}`);
  for (const [what, f] of [['receiving page', run.receiver_vs_source], ['composite MP4', run.composite_vs_source]] as const) {
    assert.ok('median_ms' in f, `${what}: ${JSON.stringify(f)}`);
    assert.ok(f.pairs >= 4, `${what}: only ${f.pairs} flash/beep pairs`);
  }
  const f = run.receiver_vs_source;
  if (!('median_ms' in f)) return assert.fail(JSON.stringify(f));
  assert.ok(Math.abs(f.median_ms) <= RECEIVER_BOUND_MS, `receiving page: audio − video median ${f.median_ms} ms (offsets ${f.offsets_ms.join(', ')})`);
});
