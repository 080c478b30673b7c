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
  // lavfi inputs start at 0: the time origin is 0
  const args = buildFfmpegArgs({ display: ':0', size: { width: 640, height: 360 }, fps: 30, audioSource: 'unused', audioOffsetMs, timeOriginS: 0, output: { kind: 'mp4', path } });
  const from = args.indexOf('-thread_queue_size');
  const to = args.indexOf('-copyts');
  const inputs = ['-re', '-f', 'lavfi', '-i', flashSource(9), '-re', '-f', 'lavfi', '-i', beepSource(9)];
  const full = [...args.slice(0, from), ...inputs, ...args.slice(to)].filter((a, i, all) => !(a === '-progress' || all[i - 1] === '-progress'));
  const r = spawnSync('ffmpeg', full, { stdio: ['ignore', 'ignore', 'pipe'] });
  assert.equal(r.status, 0, r.stderr?.toString());
}

test('buildFfmpegArgs: both captures keep their wall-clock timestamps on one origin; audioOffsetMs moves the audio', () => {
  const args = buildFfmpegArgs({ display: ':9', size: { width: 640, height: 360 }, audioSource: 'mon', audioOffsetMs: -80, timeOriginS: 1000.5, output: { kind: 'mp4', path: '/x.mp4' } });
  assert.ok(args.includes('-copyts'), 'timestamps are not reset per input');
  assert.equal(args[args.indexOf('-vf') + 1], 'setpts=PTS-1000.500000/TB');
  const af = args[args.indexOf('-af') + 1];
  // 80 ms earlier: the audio's origin is 80 ms later
  assert.ok(af.startsWith('asetpts=PTS-1000.580000/TB,aresample=async='), af);
  const hls = buildFfmpegArgs({ display: ':9', size: { width: 640, height: 360 }, audioSource: 'mon', timeOriginS: 7, output: { kind: 'hls', dir: '/h', playlist: 'live', layers: [{ name: 'a', width: 640, height: 360, videoBitrateKbps: 500 }] } });
  assert.ok(hls[hls.indexOf('-filter_complex') + 1].startsWith('[0:v]setpts=PTS-7.000000/TB,split=1'));
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
