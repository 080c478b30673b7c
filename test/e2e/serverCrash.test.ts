// The server is SIGKILLed in the middle of a recording (no shutdown code runs): its recorder processes are
// orphaned and the job row says "running". The next server on the same data dir takes the job over, stops the
// orphans (encoder first, so its last fragment is finished), and turns what was captured into an asset.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { probe, sampleFrames } from '../../src/recorder/probe.js';
import { until, sleep } from '../helpers/meetingPeers.js';
import { alive, killGroups, serverProcesses } from '../helpers/serverProcess.js';

test('a SIGKILLed server: the next one stops the orphaned recorder and keeps what it captured', async () => {
  const sp = await serverProcesses({ RECORDER_WORKERS: '1', RECORDER_TAKEOVER_SECONDS: '10' });
  const { dir, api } = sp;
  let orphans: number[] = [];
  try {
    const first = await sp.start();
    const roomId = (await api('POST', '/v2/rooms', { name: 'crash-room' })).body.id;
    const start = await api('POST', `/v2/recordings/room/${roomId}/start`, {});
    assert.equal(start.status, 200);
    const id = start.body.id;
    await until('running', async () => (await api('GET', `/v2/recordings/${id}`)).body.status === 'running', 90_000, 300);
    await sleep(5000);
    const procFile = join(dir, 'work', id, 'processes.json');
    assert.ok(existsSync(procFile), 'the job wrote its process ids');
    const procs = JSON.parse(readFileSync(procFile, 'utf8')) as { encoders: number[]; others: number[] };
    orphans = [...procs.encoders, ...procs.others];
    assert.equal(procs.encoders.length, 1);

    await sp.kill(first);
    await sleep(1000);
    assert.ok(orphans.every(alive), 'the recorder outlived its server (what the takeover must clean up)');

    await sp.start();
    const done = await until('the recording to be taken over and closed', async () => {
      const r = (await api('GET', `/v2/recordings/${id}`)).body;
      return r.status === 'failed' || r.status === 'completed' ? r : null;
    }, 90_000, 500);
    assert.equal(done.status, 'failed');
    assert.equal(done.error_type, 'INTERNAL_ERROR');
    assert.equal(done.recording_assets?.length, 1, 'what was captured became an asset');
    const asset = done.recording_assets[0];
    assert.equal(asset.metadata.partial, true);
    const file = join(dir, 'assets', asset.path.replace('local://roomcast/', ''));
    const info = await probe(file);
    assert.ok(info.duration > 4, `captured ${info.duration} s`);
    assert.equal(info.streams.find((s) => s.type === 'video')?.codec, 'h264');
    assert.equal((await sampleFrames(file, 2)).length, 2, 'frames decode');
    await until('the orphans to be gone', () => orphans.every((p) => !alive(p)), 10_000, 200);
  } finally {
    killGroups(orphans);
    await sp.close();
  }
});

// The capture calibration a recording server films at its first start is no job: before its processes were
// listed in work/calibration, a SIGKILLed server left its Xvfb, PulseAudio, Chromium and ffmpeg running for good.
test('a server SIGKILLed during its capture calibration: the next one stops what it left', async () => {
  const sp = await serverProcesses({ RECORDER_WORKERS: '1', RECORDER_AUDIO_OFFSET_MS: 'auto' });
  const procFile = join(sp.dir, 'work', 'calibration', 'processes.json');
  let left: number[] = [];
  try {
    const first = await sp.start();
    const procs = await until('the calibration to list its encoder', () => {
      if (!existsSync(procFile)) return null;
      const p = JSON.parse(readFileSync(procFile, 'utf8')) as { encoders: number[]; others: number[] };
      return p.encoders.length === 1 ? p : null;
    }, 90_000, 200);
    left = [...procs.encoders, ...procs.others];
    await sp.kill(first);
    await sleep(1000);
    assert.ok(left.every(alive), 'the calibration capture outlived its server (what the next start must stop)');

    await sp.start();
    await until('what the killed server left to be stopped', () => left.every((p) => !alive(p)), 30_000, 200);
  } finally {
    killGroups(left);
    await sp.close();
  }
});
