// The recorder's capture offset, measured through the real stage (Xvfb + PulseAudio + headful Chromium) and
// encoder: a page that flashes and beeps on the same wall-clock instants, filmed; the beep lands about 90 ms
// early here (ffmpeg starts each input at its own first packet, and pulse opens after x11grab). The figure is
// trusted only from a steady film, and cached per machine.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createLogger } from '../../src/logger.js';
import { loadConfig } from '../../src/config.js';
import { calibrationKey, CaptureCalibrator, readCalibration } from '../../src/recorder/calibration.js';

// measured here: −88 … −91 ms on a quiet machine; a figure beyond this is no capture offset but a broken film
const CAPTURE_BOUND_MS = 400;

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
    assert.ok(c.spreadMs <= 40, `spread ${c.spreadMs} ms`);
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
