// Lip sync end to end: a publisher whose camera flashes while its microphone beeps, a receiving peer, and an
// 18 s composite recording by the server's recorder. Loose bounds, so that a regression (tracks in separate
// streams, SRs from the SFU's own clock, a capture offset) fails while a loaded machine's wander does not.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runSyncScenario } from '../helpers/syncScenario.js';

const LOOSE_MS = 120;

test('audio and video of a peer stay together on the receiving page and in the composite MP4', async () => {
  const run = await runSyncScenario({ seconds: 18 });
  console.log(`# ${JSON.stringify({ receiver_vs_source: run.receiver_vs_source, composite_vs_source: run.composite_vs_source, composite_mp4: run.composite_mp4 })}`);
  for (const [what, f] of [['receiving page', run.receiver_vs_source], ['composite MP4', run.composite_vs_source]] as const) {
    assert.ok('median_ms' in f, `${what}: ${JSON.stringify(f)}`);
    assert.ok(f.pairs >= 4, `${what}: only ${f.pairs} flash/beep pairs`);
    assert.ok(Math.abs(f.median_ms) <= LOOSE_MS, `${what}: audio − video median ${f.median_ms} ms (offsets ${f.offsets_ms.join(', ')})`);
  }
});
