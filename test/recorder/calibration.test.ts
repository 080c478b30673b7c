// The recorder's capture offset, measured through the real stage (Xvfb + PulseAudio + headful Chromium) and
// encoder: a page that flashes and beeps on the same wall-clock instants lands in the film with flash and beep
// together (before the encoder kept both captures on one clock, the beep came ~90 ms early: pulse opens after
// x11grab and ffmpeg started each input at its own first packet). The figure is cached per machine.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createLogger } from '../../src/logger.js';
import { loadConfig } from '../../src/config.js';
import { calibrationKey, CaptureCalibrator, readCalibration } from '../../src/recorder/calibration.js';

// measured here: −3 … −50 ms (the picture path is a frame or so slower: compositor, then a 30 fps grab); the
// per-input reset this guards against gave −88 … −110 ms
const CAPTURE_BOUND_MS = 60;

test('the capture path keeps flash and beep together; the calibrator measures once and then reads its cache', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'roomcast-calibration-test-'));
  try {
    const file = join(dir, 'capture-calibration.json');
    const first = new CaptureCalibrator({ file, fixedMs: null, logger: createLogger('silent') });
    await first.start();
    const c = first.current();
    assert.ok(c, 'a figure was measured');
    console.log(`# ${JSON.stringify(c)}`);
    assert.ok(c.pairs >= 4, `${c.pairs} flash/beep pairs`);
    assert.ok(Math.abs(c.measuredMs) <= CAPTURE_BOUND_MS, `capture offset ${c.measuredMs} ms (audio − video)`);
    assert.equal(first.audioOffsetMs(), c.audioOffsetMs);
    assert.equal(c.audioOffsetMs, -Math.round(c.measuredMs) || 0);
    const saved = JSON.parse(readFileSync(file, 'utf8'));
    assert.deepEqual(saved, c);

    // a second start on this machine takes the cached figure without filming again
    const second = new CaptureCalibrator({ file, fixedMs: null, logger: createLogger('silent') });
    const t = Date.now();
    await second.start();
    assert.deepEqual(second.current(), c);
    assert.ok(Date.now() - t < 5000, 'read from the cache');
    // another browser or encoder build (another key) measures again
    assert.equal(readCalibration(file, `${await calibrationKey()} (other build)`), null);
    // a configured offset wins and nothing is measured
    const fixed = new CaptureCalibrator({ file: join(dir, 'none.json'), fixedMs: -35, logger: createLogger('silent') });
    await fixed.start();
    assert.equal(fixed.audioOffsetMs(), -35);
    assert.equal(fixed.current(), null);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('RECORDER_AUDIO_OFFSET_MS: auto by default, a number of ms within ±2000, anything else refused at start', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'roomcast-offset-config-'));
  try {
    assert.equal(loadConfig({ DATA_DIR: dataDir }).recorderAudioOffsetMs, null);
    assert.equal(loadConfig({ DATA_DIR: dataDir, RECORDER_AUDIO_OFFSET_MS: 'auto' }).recorderAudioOffsetMs, null);
    assert.equal(loadConfig({ DATA_DIR: dataDir, RECORDER_AUDIO_OFFSET_MS: '-40' }).recorderAudioOffsetMs, -40);
    for (const bad of ['2001', '1.5', 'soon']) {
      assert.throws(() => loadConfig({ DATA_DIR: dataDir, RECORDER_AUDIO_OFFSET_MS: bad }), /RECORDER_AUDIO_OFFSET_MS/);
    }
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
});
