// Where an asset's gaps fall and how much each misses (recorder/outputs/gaps.ts), from segment durations and
// the wall-clock times of the crashes and resumes: no media, a stand-in for ffprobe.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { assetGaps, type CaptureGap, type SegmentFile } from '../../src/recorder/outputs/gaps.js';
import type { MediaTools } from '../../src/recorder/mediaTools.js';

const seconds: Record<string, number> = { 'attempt-1/s0': 10, 'attempt-1/s1': 5, 'attempt-2/s0': 8 };
const media: MediaTools = { durationOf: async (f) => seconds[f], joinSegments: async () => undefined };
const seg = (attempt: string, segment: number): SegmentFile => ({ file: `${attempt}/s${segment}`, attempt, segment });
const T0 = 1_000_000;

test('an encoder restart and a relaunch: each gap where its segment starts, missing = wall time not in the file', async () => {
  const gaps: CaptureGap[] = [
    // encoder died 11 s in (1 s it had not written yet), its restart's first frame at 12 s
    { attempt: 'attempt-1', segment: 1, crashedAt: T0 + 11_000, resumedAt: T0 + 12_000, reason: 'ffmpeg exited (SIGKILL)' },
    // chromium died at 17 s, the relaunch showed the meeting at 25 s
    { attempt: 'attempt-2', segment: 0, crashedAt: T0 + 17_000, resumedAt: T0 + 25_000, reason: 'chromium exited (SIGKILL)' },
  ];
  const out = await assetGaps(gaps, [seg('attempt-1', 0), seg('attempt-1', 1), seg('attempt-2', 0)], media, [], T0);
  assert.deepEqual(out, [
    { at: 10, missing_seconds: 2, reason: 'ffmpeg exited (SIGKILL)' },
    { at: 15, missing_seconds: 8, reason: 'chromium exited (SIGKILL)' },
  ]);
});

test('paused time is not missing; without a start the crash-to-resume time is', async () => {
  const gap: CaptureGap = { attempt: 'attempt-2', segment: 0, crashedAt: T0 + 12_000, resumedAt: T0 + 20_000, reason: 'Xvfb exited (SIGKILL)' };
  const segments = [seg('attempt-1', 0), seg('attempt-2', 0)];
  const paused = await assetGaps([gap], segments, media, [{ from: T0 + 14_000, to: T0 + 17_000 }], T0);
  assert.deepEqual(paused, [{ at: 10, missing_seconds: 7, reason: 'Xvfb exited (SIGKILL)' }]);
  const noStart = await assetGaps([gap], segments, media, [], null);
  assert.deepEqual(noStart, [{ at: 10, missing_seconds: 8, reason: 'Xvfb exited (SIGKILL)' }]);
});
