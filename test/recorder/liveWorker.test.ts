// The live-stream worker with real media but no browser: the capture is the recorder's own ffmpeg command
// line (encoder.ts, HLS ladder) with lavfi test sources in place of the screen grab and the sound card. Proves
// the worker's part: running once every layer is playable, the live window, timed metadata, pause-recording
// left out of the recordings, the room-vod asset and the per-layer MP4s after stop, the hls.* events.
// The browser-driven path is test/e2e/liveStream.test.ts.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { EgressWorker } from '../../src/recorder/worker.js';
import { ffmpegMediaTools } from '../../src/recorder/mediaTools.js';
import type { LaunchCapture } from '../../src/recorder/jobSpec.js';
import { encoderOutputOf } from '../../src/recorder/outputs/index.js';
import { buildFfmpegArgs } from '../../src/recorder/encoder.js';
import { probe } from '../../src/recorder/probe.js';
import { parseMediaPlaylist, variantUris } from '../../src/domain/hlsPlaylists.js';

let s: TestServer;
let worker: EgressWorker;
const pids = new Set<number>();

/** The encoder's exact HLS arguments, inputs swapped for a 30 fps test pattern and a tone played in real time. */
const lavfiLaunch: LaunchCapture = async (o) => {
  if (o.output.kind !== 'hlsLive') throw new Error('a live stream encodes an HLS ladder');
  const top = o.output.layers[0];
  const args = buildFfmpegArgs({
    display: ':0',
    size: { width: top.width, height: top.height },
    fps: o.fps,
    audioSource: 'unused',
    audioBitrateKbps: o.output.audioBitrateKbps,
    output: encoderOutputOf(o.output, o.workDir, 0),
  });
  const from = args.indexOf('-thread_queue_size');
  const to = args.indexOf('-filter_complex');
  const lavfi = ['-re', '-f', 'lavfi', '-i', `testsrc2=size=${top.width}x${top.height}:rate=${o.fps}`, '-re', '-f', 'lavfi', '-i', 'sine=frequency=440:sample_rate=48000'];
  const full = [...args.slice(0, from), ...lavfi, ...args.slice(to)];
  for (const l of o.output.layers) mkdirSync(join(o.output.dir, l.name), { recursive: true });
  const child = spawn('ffmpeg', full, { stdio: ['pipe', 'ignore', 'ignore'] });
  pids.add(child.pid!);
  let stopping = false;
  const exited = new Promise<number | null>((res) => child.once('exit', (code) => res(code)));
  void exited.then(() => pids.delete(child.pid!));
  return {
    firstFrame: Promise.resolve(new Date()),
    crashed: exited.then((code) => (stopping ? new Promise<string>(() => undefined) : `ffmpeg exited ${code}`)),
    // not its own process group: nothing for a takeover to stop
    processes: () => ({ encoders: [], others: [] }),
    pause: async () => undefined,
    resume: async () => undefined,
    async stop() {
      stopping = true;
      child.stdin.end('q');
      const t = setTimeout(() => child.kill('SIGKILL'), 15_000);
      const code = await exited;
      clearTimeout(t);
      return { files: [], graceful: code === 0 };
    },
  };
};

before(async () => {
  s = await startTestServer({ RECORDER_WORKERS: '0' });
  worker = new EgressWorker(s.services, lavfiLaunch, ffmpegMediaTools, 1);
  worker.start();
});
after(async () => {
  await worker.stop();
  for (const pid of pids) process.kill(pid, 'SIGKILL');
  await s.stop();
});

async function waitFor<T>(what: string, fn: () => Promise<T | null | undefined | false>, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

const text = async (url: string) => {
  const r = await fetch(url);
  assert.equal(r.status, 200, url);
  return r.text();
};

test('a recorded live stream: running with every layer playable, live window, metadata, pause, VOD and per-layer MP4s', async () => {
  const room = (await s.api('POST', '/v2/rooms', { name: 'lw-main' })).body.id;
  const start = await s.api('POST', `/v2/live-streams/room/${room}/start`, { recording: { hls_vod: true, single_file_per_layer: true } });
  assert.equal(start.status, 200, JSON.stringify(start.body));
  const id = start.body.id;
  const playback = start.body.playback.url as string;
  const running = await waitFor('running', async () => {
    const g = await s.api('GET', `/v2/live-streams/${id}`);
    return g.body.status === 'running' && g.body;
  });
  assert.ok(running.started_at);

  // every variant of the master is playable at once: that is what "running" means
  const master = await text(playback);
  const variants = variantUris(master);
  assert.deepEqual(variants, ['720p/index.m3u8', '480p/index.m3u8', '360p/index.m3u8']);
  assert.match(master, /RESOLUTION=1280x720,CODECS="avc1\.[0-9a-f]{6},mp4a\.40\.2"/);
  assert.match(master, /RESOLUTION=854x480/);
  assert.match(master, /RESOLUTION=640x360/);
  for (const v of variants) {
    const p = parseMediaPlaylist(await text(new URL(v, playback).toString()));
    assert.ok(p.segments.length >= 1, v);
    const seg = await fetch(new URL(p.segments[0].uri, new URL(v, playback)).toString());
    assert.equal(seg.status, 200);
    assert.equal(seg.headers.get('content-type'), 'video/mp2t');
  }

  assert.equal((await s.api('POST', `/v2/live-streams/${id}/timed-metadata`, { payload: 'chapter 1', duration: 3 })).status, 200);
  // pause the recording for a while: those segments stay live but not in the recordings
  await new Promise((r) => setTimeout(r, 3000));
  assert.equal((await s.api('POST', `/v2/live-streams/${id}/pause-recording`)).status, 200);
  await new Promise((r) => setTimeout(r, 6000));
  assert.equal((await s.api('POST', `/v2/live-streams/${id}/resume-recording`)).status, 200);
  // long enough for the window (5 segments of 2 s) to slide
  await waitFor('a sliding window', async () => {
    const p = parseMediaPlaylist(await text(new URL('720p/index.m3u8', playback).toString()));
    return p.segments.length === 5 && p.segments[0].uri !== 'seg_00000.ts';
  });
  const live = await text(new URL('480p/index.m3u8', playback).toString());
  assert.match(live, /#EXT-X-MEDIA-SEQUENCE:[1-9]/);
  assert.doesNotMatch(live, /PLAYLIST-TYPE/);
  assert.match(live, /X-100MSLIVE-PAYLOAD="chapter 1"/);
  await new Promise((r) => setTimeout(r, 4000));

  assert.equal((await s.api('POST', `/v2/live-streams/${id}/stop`)).status, 200);
  const done = await waitFor('completed', async () => {
    const g = await s.api('GET', `/v2/live-streams/${id}`);
    return ['completed', 'failed'].includes(g.body.status) && g.body;
  });
  assert.equal(done.status, 'completed', JSON.stringify(done));
  const stoppedEv = (await s.services.events.list({ type: 'hls.stopped.success', roomId: room })).at(-1)!;
  const streamSeconds = Number(stoppedEv.data.duration);
  assert.ok(streamSeconds >= 16, `stream duration ${streamSeconds}`);

  const assets = done.recording_assets as any[];
  const vod = assets.find((a) => a.type === 'room-vod');
  assert.ok(vod, JSON.stringify(assets));
  assert.deepEqual(vod.metadata, { num_layers: '3', max_width: 1280, max_height: 720 });
  const files = assets.filter((a) => a.type === 'room-composite').sort((a, b) => Number(a.metadata.layer) - Number(b.metadata.layer));
  assert.deepEqual(files.map((f) => f.metadata), [
    { layer: '0', resolution: { width: 1280, height: 720 } },
    { layer: '1', resolution: { width: 854, height: 480 } },
    { layer: '2', resolution: { width: 640, height: 360 } },
  ]);

  const recEv = (await s.services.events.list({ type: 'hls.recording.success', roomId: room })).at(-1)!;
  const vodUrl = String(recEv.data.hls_vod_recording_presigned_url);
  const vodMaster = await text(vodUrl);
  assert.deepEqual(variantUris(vodMaster), variants);
  let vodSeconds = 0;
  for (const v of variants) {
    const body = await text(new URL(v, vodUrl).toString());
    const p = parseMediaPlaylist(body);
    assert.ok(p.ended, `${v} ends with #EXT-X-ENDLIST`);
    assert.match(body, /#EXT-X-PLAYLIST-TYPE:VOD/);
    assert.match(body, /#EXT-X-DISCONTINUITY/, 'the paused span is cut out');
    assert.match(body, /X-100MSLIVE-PAYLOAD="chapter 1"/);
    assert.equal(p.segments[0].uri, 'seg_00000.ts');
    const seg = await fetch(new URL(p.segments.at(-1)!.uri, new URL(v, vodUrl)).toString());
    assert.equal(seg.status, 200);
    const secs = p.segments.reduce((sum, x) => sum + x.duration, 0);
    if (v.startsWith('720p')) vodSeconds = secs;
  }
  assert.ok(vodSeconds < streamSeconds - 3, `VOD ${vodSeconds} s leaves out the ~6 s pause of ${streamSeconds} s`);
  assert.ok(vodSeconds > streamSeconds - 10, `VOD ${vodSeconds} s vs stream ${streamSeconds} s`);
  const wrong = vodUrl.replace(/\/([A-Za-z0-9_-]{43})\//, (_m, sig: string) => `/${sig.slice(0, -1)}${sig.endsWith('A') ? 'B' : 'A'}/`);
  assert.equal((await fetch(wrong)).status, 403);

  const single = recEv.data.recording_single_files as any[];
  assert.deepEqual(single.map((f) => [f.layer, f.width, f.height]), [['0', 1280, 720], ['1', 854, 480], ['2', 640, 360]]);
  for (const f of single) {
    const asset = files.find((a) => a.id === f.asset_id);
    assert.ok(asset);
    const file = s.services.localStorage.fileOf(String(f.recording_path).replace('local://roomcast/', ''));
    assert.ok(existsSync(file));
    const info = await probe(file);
    const v = info.streams.find((x) => x.type === 'video')!;
    assert.deepEqual([v.width, v.height], [f.width, f.height]);
    assert.ok(info.streams.some((x) => x.type === 'audio' && x.codec === 'aac'));
    assert.ok(Math.abs(info.duration - vodSeconds) <= 1, `layer ${f.layer}: mp4 ${info.duration} s vs VOD ${vodSeconds} s`);
    assert.equal(f.size, asset.size);
    const dl = await fetch(f.recording_presigned_url, { headers: { range: 'bytes=0-7' } });
    assert.equal(dl.status, 206);
  }
});

test('stop before the stream is running → failed BEAM_STOPPED, hls.failure', async () => {
  const room = (await s.api('POST', '/v2/rooms', { name: 'lw-early' })).body.id;
  const start = await s.api('POST', `/v2/live-streams/room/${room}/start`, {});
  assert.equal((await s.api('POST', `/v2/live-streams/${start.body.id}/stop`)).status, 200);
  const done = await waitFor('finished', async () => {
    const g = await s.api('GET', `/v2/live-streams/${start.body.id}`);
    return ['completed', 'failed'].includes(g.body.status) && g.body;
  });
  assert.equal(done.status, 'failed');
  assert.equal(done.error_type, 'BEAM_STOPPED');
  const ev = (await s.services.events.list({ type: 'hls.failure', roomId: room })).at(-1)!;
  assert.equal(ev.data.error_type, 'BEAM_STOPPED');
});

test('a crashed encoder: the stream is relaunched into the same playlists, after a discontinuity, and its VOD keeps both parts', async () => {
  const room = (await s.api('POST', '/v2/rooms', { name: 'lw-crash' })).body.id;
  const start = await s.api('POST', `/v2/live-streams/room/${room}/start`, { recording: { hls_vod: true } });
  assert.equal(start.status, 200, JSON.stringify(start.body));
  const id = start.body.id;
  const media = new URL('720p/index.m3u8', start.body.playback.url as string).toString();
  await waitFor('two segments', async () => {
    const r = await fetch(media);
    return r.status === 200 && parseMediaPlaylist(await r.text()).segments.length >= 2;
  });
  const before = parseMediaPlaylist(await text(media)).segments.map((x) => x.uri);
  for (const pid of pids) process.kill(pid, 'SIGKILL');
  // the relaunched encoder goes on with the playlist: the numbering continues after a discontinuity
  const after = await waitFor('segments after the crash', async () => {
    const p = parseMediaPlaylist(await text(media));
    const at = p.segments.findIndex((x) => x.tags.includes('#EXT-X-DISCONTINUITY'));
    return at > 0 && p.segments.length >= at + 2 && { p, at };
  });
  assert.deepEqual(after.p.segments.slice(0, before.length).map((x) => x.uri), before, 'what players had stays');
  const numbers = after.p.segments.map((x) => Number(/seg_(\d+)\.ts$/.exec(x.uri)![1]));
  assert.deepEqual(numbers, numbers.map((_, i) => i), 'segment numbers go on without a restart');
  assert.equal((await s.api('GET', `/v2/live-streams/${id}`)).body.status, 'running');
  const seg = await fetch(new URL(after.p.segments[after.at + 1].uri, media).toString());
  assert.equal(seg.status, 200);

  assert.equal((await s.api('POST', `/v2/live-streams/${id}/stop`)).status, 200);
  const done = await waitFor('completed', async () => {
    const g = await s.api('GET', `/v2/live-streams/${id}`);
    return ['completed', 'failed'].includes(g.body.status) && g.body;
  });
  assert.equal(done.status, 'completed', JSON.stringify(done));
  const vodUrl = String((await s.services.events.list({ type: 'hls.recording.success', roomId: room })).at(-1)!.data.hls_vod_recording_presigned_url);
  const vod = parseMediaPlaylist(await text(new URL('720p/index.m3u8', vodUrl).toString()));
  assert.ok(vod.segments.length >= after.at + 2, `${vod.segments.length} segments`);
  assert.ok(vod.segments[after.at].tags.includes('#EXT-X-DISCONTINUITY'), 'the VOD marks where the encoder changed');
});
