// The lip-sync probe's file analysis on files made to measure: flash and beep together, then the beep shifted.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beepSource, flashSource, measureMedia } from '../helpers/syncProbe.js';

function encode(dir: string, audioShiftS: number, name: string): string {
  const out = join(dir, name);
  // 12 s of the probe's pattern, the same codecs and fragmented MP4 as the recorder's encoder
  const r = spawnSync('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-y',
    '-f', 'lavfi', '-i', flashSource(12),
    '-itsoffset', String(audioShiftS), '-f', 'lavfi', '-i', beepSource(12),
    '-map', '0:v', '-map', '1:a', '-c:v', 'libx264', '-preset', 'ultrafast', '-pix_fmt', 'yuv420p', '-c:a', 'aac', '-ar', '48000', '-ac', '2',
    '-movflags', '+frag_keyframe+empty_moov+default_base_moof', out], { stdio: ['ignore', 'ignore', 'pipe'] });
  assert.equal(r.status, 0, r.stderr?.toString());
  return out;
}

test('a file whose flash and beep start together measures ~0 ms; a beep 120 ms late measures ~+120 ms', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'roomcast-syncprobe-'));
  try {
    const together = await measureMedia(encode(dir, 0, 'together.mp4'));
    assert.ok(together.pairs >= 5, JSON.stringify(together));
    assert.ok(Math.abs(together.median_ms) <= 10, `median ${together.median_ms}`);
    assert.ok(together.p95_spread_ms <= 5, `spread ${together.p95_spread_ms}`);
    const late = await measureMedia(encode(dir, 0.12, 'late.mp4'));
    assert.ok(Math.abs(late.median_ms - 120) <= 10, `median ${late.median_ms}`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
