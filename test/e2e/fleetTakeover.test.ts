// A recorder machine dies mid-job and nothing but its last moments is lost (test/helpers/takeoverScenario.ts):
// two nodes and two workers; a peer joins through node A's link, the recording is started through the node the
// room is not on; the worker recording it is SIGKILLed with all it started 10 s in, the other worker takes the job over from
// the parts streamed to the bucket and records on. The MP4 in the bucket, dated by the clock its pictures show:
// the latest moment before the kill it holds is at most 3 s before the kill, and it shows the meeting after the
// takeover until the stop. Its metadata names the gap; the streamed parts are gone from the bucket. The same for a
// live stream, as its players get it from a node that runs no encoder (the copy in the bucket): the playlist goes
// on after one discontinuity, its numbering unbroken, and the stream's VOD holds both machines' segments.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { lostAroundKill, runTakeover } from '../helpers/takeoverScenario.js';

/** the bound on what a dead machine may lose */
const MAX_LOST_S = 3;

test('a worker machine killed mid-recording loses at most 3 s: another worker takes the job over from the bucket', async () => {
  const run = await runTakeover({ killAfterS: 10, afterTakeoverS: 6 });
  assert.ok(run.killed.length > 3, `the worker's processes: ${run.killed.join(' ')}`);
  assert.equal(run.videoCodec, 'h264');
  assert.ok(run.audioMaxDb > -40, 'the audio is not silent');
  const readable = run.frames.filter((f) => f.wallMs !== null).length;
  assert.ok(readable > run.frames.length / 2, `only ${readable} of ${run.frames.length} frames show a readable clock`);

  const { lostSeconds, gapSeconds, lastAfterMs } = lostAroundKill(run);
  const gaps = run.asset?.metadata?.gaps;
  console.log(JSON.stringify({ lostSeconds, gapSeconds, takeoverSeconds: (run.tookOverAt - run.killAt) / 1000, fileSeconds: run.fileSeconds, gaps }));
  assert.ok(lostSeconds >= 0 && lostSeconds <= MAX_LOST_S, `${lostSeconds.toFixed(1)} s recorded before the kill are missing (at most ${MAX_LOST_S})`);
  // the recording went on after the takeover, until the stop
  assert.ok(lastAfterMs > run.tookOverAt, 'the file shows the meeting after the takeover');
  assert.ok(run.stopAt - lastAfterMs < 5000, `the file ends ${(run.stopAt - lastAfterMs) / 1000} s before the stop`);
  // the asset says where time is missing and why
  assert.equal(gaps?.length, 1, JSON.stringify(run.asset?.metadata));
  assert.match(gaps![0].reason, /took the job over/);
  assert.ok(Math.abs(gaps![0].missing_seconds - gapSeconds) < 3, `metadata says ${gaps![0].missing_seconds} s missing, the pictures ${gapSeconds.toFixed(1)} s`);
  assert.deepEqual(run.partsLeft, [], 'the streamed parts went once the asset was stored');
});

test('a worker machine killed mid-live-stream: players on any node go on after one discontinuity, at most 3 s lost', async () => {
  const run = await runTakeover({ killAfterS: 10, afterTakeoverS: 6, kind: 'live-stream' });
  assert.ok(run.killed.length > 3, `the worker's processes: ${run.killed.join(' ')}`);
  assert.equal(run.videoCodec, 'h264');
  assert.ok(run.audioMaxDb > -40, 'the audio is not silent');
  const { playlist } = run.live!;
  assert.ok(playlist.ended, 'the playlist ends with #EXT-X-ENDLIST');
  const discontinuities = playlist.segments.flatMap((s, i) => (s.tags.includes('#EXT-X-DISCONTINUITY') ? [i] : []));
  assert.equal(discontinuities.length, 1, `one discontinuity, at the takeover: ${discontinuities.join(',')}`);
  const numbers = playlist.segments.map((s) => Number(/seg_(\d+)\.ts$/.exec(s.uri)?.[1]));
  // (a player that comes late starts inside the live window, not at segment 0)
  assert.deepEqual(numbers, numbers.map((_, i) => numbers[0] + i), 'the second machine numbers its segments on from the first');

  const { lostSeconds, gapSeconds, lastAfterMs } = lostAroundKill(run);
  const streamSeconds = playlist.segments.reduce((sum, s) => sum + s.duration, 0);
  console.log(JSON.stringify({ lostSeconds, gapSeconds, takeoverSeconds: (run.tookOverAt - run.killAt) / 1000, streamSeconds, vodSeconds: run.asset?.duration }));
  assert.ok(lostSeconds >= 0 && lostSeconds <= MAX_LOST_S, `${lostSeconds.toFixed(1)} s streamed before the kill are missing (at most ${MAX_LOST_S})`);
  assert.ok(lastAfterMs > run.tookOverAt, 'the stream shows the meeting after the takeover');
  assert.ok(run.stopAt - lastAfterMs < 5000, `the stream ends ${(run.stopAt - lastAfterMs) / 1000} s before the stop`);
  // its recording holds what both machines encoded
  assert.ok(run.asset, 'the stream\'s VOD');
  // (the VOD also holds the 2 s segments a late player never got: those before its first)
  const fromStart = streamSeconds + numbers[0] * 2;
  assert.ok(Math.abs(run.asset.duration! - fromStart) <= 2, `VOD ${run.asset.duration} s, stream ${fromStart} s from its first segment`);
});
