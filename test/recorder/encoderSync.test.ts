// The encoder's capture correction: its exact MP4 arguments with the flash/beep pattern as inputs (played in
// real time, like x11grab and pulse), once as is and once with audioOffsetMs, measured by the sync probe.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildFfmpegArgs } from '../../src/recorder/encoder.js';
import { beepSource, flashSource, measureMedia } from '../helpers/syncProbe.js';

function record(path: string, audioOffsetMs: number): void {
  const args = buildFfmpegArgs({ display: ':0', size: { width: 640, height: 360 }, fps: 30, audioSource: 'unused', audioOffsetMs, output: { kind: 'mp4', path } });
  const from = args.indexOf('-thread_queue_size');
  const to = args.indexOf('-map');
  const shift = args.indexOf('-itsoffset');
  const inputs = ['-re', '-f', 'lavfi', '-i', flashSource(9), ...(shift >= 0 ? args.slice(shift, shift + 2) : []), '-re', '-f', 'lavfi', '-i', beepSource(9)];
  const full = [...args.slice(0, from), ...inputs, ...args.slice(to)].filter((a, i, all) => !(a === '-progress' || all[i - 1] === '-progress'));
  const r = spawnSync('ffmpeg', full, { stdio: ['ignore', 'ignore', 'pipe'] });
  assert.equal(r.status, 0, r.stderr?.toString());
}

test('buildFfmpegArgs: audioOffsetMs shifts the pulse input, audio follows its timestamps', () => {
  const args = buildFfmpegArgs({ display: ':9', size: { width: 640, height: 360 }, audioSource: 'mon', audioOffsetMs: -80, output: { kind: 'mp4', path: '/x.mp4' } });
  const at = args.indexOf('-itsoffset');
  assert.equal(args[at + 1], '-0.080');
  assert.ok(args.indexOf('pulse') < at && at < args.indexOf('mon'), 'an option of the pulse input');
  assert.ok(args.join(' ').includes('aresample=async='));
  assert.equal(buildFfmpegArgs({ display: ':9', size: { width: 640, height: 360 }, audioSource: 'mon', audioOffsetMs: 0, output: { kind: 'mp4', path: '/x.mp4' } }).includes('-itsoffset'), false);
});

test('the encoder keeps flash and beep together, and audioOffsetMs moves the beep by that much', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'roomcast-encsync-'));
  try {
    record(join(dir, 'as-is.mp4'), 0);
    record(join(dir, 'shifted.mp4'), 100);
    const asIs = await measureMedia(join(dir, 'as-is.mp4'));
    const shifted = await measureMedia(join(dir, 'shifted.mp4'));
    assert.ok(asIs.pairs >= 3, JSON.stringify(asIs));
    assert.ok(Math.abs(asIs.median_ms) <= 15, `as is: ${asIs.median_ms} ms`);
    assert.ok(Math.abs(shifted.median_ms - 100) <= 15, `shifted: ${shifted.median_ms} ms`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
