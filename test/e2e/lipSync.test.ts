// Lip sync end to end: a publisher whose camera flashes while its microphone beeps, a receiving peer, and a
// 24 s composite recording by the server's recorder. Loose bounds, so that a regression (tracks in separate
// streams, SRs from the SFU's own clock, a capture offset) fails while a loaded machine's wander does not.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runSyncScenario } from '../helpers/syncScenario.js';

// Issue 11's loose bound holds for the receiving page.
const BOUND_MS = 120;
// The composite is not in sync yet (issue 11 is open): from 8 s in, its median was −185 … +52 ms in runs on
// this 2-core machine, where Chrome's own A/V sync in the recorder overshoots after the join. It is printed;
// only a bound that catches the gross regressions is asserted on the whole file.
const WHOLE_FILE_BOUND_MS = 500;

test('audio and video of a peer stay together on the receiving page; the composite MP4 holds only a gross bound so far', async () => {
  const run = await runSyncScenario({ seconds: 24 });
  console.log(`# ${JSON.stringify({ receiver_vs_source: run.receiver_vs_source, composite_vs_source: run.composite_vs_source, composite_settled_vs_source: run.composite_settled_vs_source, composite_mp4: run.composite_mp4 })}`);
  for (const [what, f] of [['receiving page', run.receiver_vs_source], ['composite MP4', run.composite_vs_source]] as const) {
    assert.ok('median_ms' in f, `${what}: ${JSON.stringify(f)}`);
    assert.ok(f.pairs >= 4, `${what}: only ${f.pairs} flash/beep pairs`);
  }
  for (const [what, f, bound] of [
    ['receiving page', run.receiver_vs_source, BOUND_MS],
    ['composite MP4, whole file', run.composite_vs_source, WHOLE_FILE_BOUND_MS],
  ] as const) {
    if (!('median_ms' in f)) return assert.fail(`${what}: ${JSON.stringify(f)}`);
    assert.ok(Math.abs(f.median_ms) <= bound, `${what}: audio − video median ${f.median_ms} ms (offsets ${f.offsets_ms.join(', ')})`);
  }
});
