// An MP4 whose encoder died mid-write (a full disk, a kill) is cut back to its last whole fragment: it then
// decodes without errors to its end, and a file without a single fragment counts none.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runTool } from '../../src/recorder/proc.js';
import { probe } from '../../src/recorder/probe.js';
import { trimToCompleteFragments } from '../../src/recorder/outputs/mp4Fragments.js';

test('a fragmented MP4 cut mid-fragment is trimmed to its whole fragments and decodes cleanly', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'roomcast-frag-'));
  try {
    const file = join(dir, 'segment-0000.mp4');
    await runTool('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-f', 'lavfi', '-i', 'testsrc2=size=320x240:rate=30', '-t', '6', '-c:v', 'libx264', '-preset', 'ultrafast', '-g', '60', '-keyint_min', '60', '-sc_threshold', '0', '-movflags', '+frag_keyframe+empty_moov+default_base_moof', '-f', 'mp4', '-y', file], 60_000);
    const whole = statSync(file).size;
    assert.equal(trimToCompleteFragments(file), 3, 'three 2 s fragments');
    assert.equal(statSync(file).size, whole, 'a whole file is left as it is');

    truncateSync(file, whole - 3000);
    assert.equal(trimToCompleteFragments(file), 2);
    assert.ok(statSync(file).size < whole - 3000);
    const { stderr } = await runTool('ffmpeg', ['-hide_banner', '-v', 'error', '-i', file, '-f', 'null', '-'], 60_000);
    assert.equal(stderr.trim(), '', 'decodes without errors');
    const { duration } = await probe(file);
    assert.ok(Math.abs(duration - 4) < 0.2, `duration ${duration}`);

    // only the header: no fragment, no media
    truncateSync(file, 1200);
    assert.equal(trimToCompleteFragments(file), 0);
    // bytes that are not an MP4 the encoder wrote are left alone
    writeFileSync(file, Buffer.alloc(2048, 1));
    assert.equal(trimToCompleteFragments(file), null);
    assert.equal(statSync(file).size, 2048);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
