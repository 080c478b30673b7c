// A live stream end to end with real parts: a host peer (headless Chromium, fake camera and microphone) in the
// room, the seed's start call, the recorder (Xvfb + PulseAudio + headful Chromium on the meeting page + one
// ffmpeg writing the 720p/480p/360p ladder), hls.js in headless Chromium on ANOTHER origin playing the
// playback URL, ffprobe reading the master, the meeting page's HLS viewer role, then stop → the room-vod
// asset and the per-layer MP4s.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import type { Page } from 'playwright-core';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { launchPeerBrowser, makeMediaFixtures, openPeerPage, sleep, until, waitJoined, type MediaFixtures, type PeerBrowser } from '../helpers/meetingPeers.js';
import { liveProcesses, runTool } from '../../src/recorder/proc.js';
import { frameDifference, probe, sampleFrames } from '../../src/recorder/probe.js';
import { parseMediaPlaylist, variantUris } from '../../src/domain/hlsPlaylists.js';

let s: TestServer;
let media: MediaFixtures;
let peers: PeerBrowser;
let players: PeerBrowser;
let playerSite: Server;
let playerOrigin: string;
let roomId: string;

/** A page of another origin that plays ?src= with hls.js and reports what it sees. */
const PLAYER_HTML = `<!doctype html><meta charset="utf-8"><video id="v" muted autoplay playsinline width="640" height="360"></video>
<script src="/hls.min.js"></script>
<script>
  window.errors = []; window.levels = []; window.dateRanges = [];
  const hls = new Hls({ enableWorker: false });
  hls.on(Hls.Events.ERROR, (_e, d) => { if (d.fatal) window.errors.push(d.type + ': ' + d.details); });
  hls.on(Hls.Events.MANIFEST_PARSED, (_e, d) => { window.levels = d.levels.map((l) => [l.width, l.height, l.bitrate, l.codecSet || l.videoCodec]); });
  hls.on(Hls.Events.LEVEL_UPDATED, (_e, d) => { for (const id of Object.keys(d.details.dateRanges || {})) if (!window.dateRanges.includes(id)) window.dateRanges.push(id); });
  hls.loadSource(new URLSearchParams(location.search).get('src'));
  hls.attachMedia(document.getElementById('v'));
</script>`;

before(async () => {
  // the server's own recorder worker takes the stream, as in production
  s = await startTestServer({ RECORDER_WORKERS: '1' });
  media = makeMediaFixtures();
  [peers, players] = await Promise.all([launchPeerBrowser(media), launchPeerBrowser()]);
  const hlsJs = readFileSync(createRequire(import.meta.url).resolve('hls.js/dist/hls.min.js'));
  playerSite = createServer((req, res) => {
    if (req.url?.startsWith('/hls.min.js')) res.writeHead(200, { 'content-type': 'text/javascript' }).end(hlsJs);
    else res.writeHead(200, { 'content-type': 'text/html' }).end(PLAYER_HTML);
  });
  await new Promise<void>((r) => playerSite.listen(0, '127.0.0.1', r));
  const addr = playerSite.address();
  playerOrigin = `http://127.0.0.1:${typeof addr === 'object' && addr ? addr.port : 0}`;
  roomId = (await s.api('POST', '/v2/rooms', { name: 'e2e-live' })).body.id;
});

after(async () => {
  await players?.close();
  await peers?.close();
  await new Promise((r) => playerSite?.close(r));
  await s?.stop();
  media?.remove();
  assert.deepEqual(liveProcesses(), [], 'the recorder left no process behind');
});

interface PlayerState {
  t: number;
  frames: number;
  width: number;
  errors: string[];
}
const playerState = (page: Page, sel: string) =>
  page.evaluate((q) => {
    const v = document.querySelector<HTMLVideoElement>(q);
    const w = window as unknown as { errors?: string[]; roomcastHlsErrors?: string[] };
    return { t: v?.currentTime ?? 0, frames: v?.getVideoPlaybackQuality().totalVideoFrames ?? 0, width: v?.videoWidth ?? 0, errors: w.errors ?? w.roomcastHlsErrors ?? [] };
  }, sel) as Promise<PlayerState>;

/** Plays for `seconds` of media time with frames advancing and no fatal error; returns the states seen. */
async function playsFor(page: Page, sel: string, seconds: number): Promise<[PlayerState, PlayerState]> {
  const first = await until('playback to start', async () => {
    const st = await playerState(page, sel);
    assert.deepEqual(st.errors, []);
    return st.t > 0 && st.frames > 0 && st.width > 0 ? st : null;
  }, 60_000);
  const later = await until(`${seconds} s of playback`, async () => {
    const st = await playerState(page, sel);
    assert.deepEqual(st.errors, []);
    return st.t >= first.t + seconds ? st : null;
  }, 90_000, 500);
  assert.ok(later.frames > first.frames + seconds * 10, `frames advance: ${first.frames} → ${later.frames}`);
  return [first, later];
}

test('the seed start → running; hls.js on another origin plays it; ffprobe sees every layer; stop → room-vod and per-layer MP4s', async () => {
  const host = await openPeerPage(peers, `${s.url}/preview/${roomId}/host?skip_preview=true&name=Alice&auth_token=${await s.appToken(roomId, 'host', 'alice')}`);
  await waitJoined(host);

  // the seed's JSON, with our meeting page and the query parameters the seed lists
  const start = await s.api('POST', `/v2/live-streams/room/${roomId}/start`, {
    meeting_url: `${s.url}/preview/${roomId}/__internal_recorder?skip_preview=true&ui_mode=activespeaker&name=beam`,
    recording: { hls_vod: true, single_file_per_layer: true },
  });
  assert.equal(start.status, 200, JSON.stringify(start.body));
  assert.equal(start.body.status, 'starting');
  const id = start.body.id;
  const playback: string = start.body.playback.url;
  const startedAt = Date.now();
  const running = await until('running', async () => {
    const g = await s.api('GET', `/v2/live-streams/${id}`);
    assert.ok(!['failed', 'completed'].includes(g.body.status), JSON.stringify(g.body));
    return g.body.status === 'running' ? g.body : null;
  }, 150_000, 500);
  console.log(`time to running: ${((Date.now() - startedAt) / 1000).toFixed(1)} s`);
  assert.ok(running.started_at);
  const started = (await s.services.events.list({ type: 'hls.started.success', roomId })).at(-1)!;
  assert.equal(started.data.url, playback);

  // ffprobe on the master: every layer at its resolution
  const probed = JSON.parse((await runTool('ffprobe', ['-v', 'error', '-print_format', 'json', '-show_streams', playback], 120_000)).stdout.toString());
  const sizes = new Set((probed.streams as Array<{ codec_type: string; width?: number; height?: number }>).filter((x) => x.codec_type === 'video').map((x) => `${x.width}x${x.height}`));
  assert.deepEqual([...sizes].sort(), ['1280x720', '640x360', '854x480']);
  assert.ok((probed.streams as Array<{ codec_type: string }>).some((x) => x.codec_type === 'audio'));

  // hls.js on another origin: CORS lets it play; timed metadata arrives as a date range
  const meta = await s.api('POST', `/v2/live-streams/${id}/timed-metadata`, { payload: 'e2e marker', duration: 5 });
  assert.equal(meta.status, 200);
  const ctx = await players.browser.newContext();
  const player = await ctx.newPage();
  await player.goto(`${playerOrigin}/?src=${encodeURIComponent(playback)}`);
  const [, later] = await playsFor(player, '#v', 5);
  const levels = (await player.evaluate(() => (window as unknown as { levels: unknown[] }).levels)) as Array<[number, number, number, string]>;
  // hls.js lists levels by ascending bitrate
  assert.deepEqual(levels.map((l) => `${l[0]}x${l[1]}`).sort(), ['1280x720', '640x360', '854x480']);
  assert.ok(levels.every((l) => l[2] > 0));
  await until('the timed metadata in the player', async () => ((await player.evaluate(() => (window as unknown as { dateRanges: string[] }).dateRanges)) as string[]).length > 0);
  console.log(`player: ${later.t.toFixed(1)} s played, ${later.frames} frames, ${later.width}px wide`);
  await ctx.close();

  // the meeting page's HLS viewer role plays the stream instead of joining WebRTC media
  const viewerCtx = await players.browser.newContext();
  const viewer = await viewerCtx.newPage();
  await viewer.goto(`${s.url}/preview/${roomId}/hls-viewer?skip_preview=true&name=Viewer&auth_token=${await s.appToken(roomId, 'hls-viewer', 'viewer')}`);
  await until('the viewer playing', async () => (await viewer.evaluate(() => document.body.dataset.hls)) === 'playing', 60_000);
  await playsFor(viewer, '#hls-video', 3);
  assert.equal(await viewer.evaluate(() => document.querySelectorAll('#grid video').length), 0, 'no WebRTC tiles');
  await viewerCtx.close();

  assert.equal((await s.api('POST', `/v2/live-streams/${id}/stop`)).status, 200);
  const done = await until('completed', async () => {
    const g = await s.api('GET', `/v2/live-streams/${id}`);
    return ['completed', 'failed'].includes(g.body.status) ? g.body : null;
  }, 180_000, 500);
  assert.equal(done.status, 'completed', JSON.stringify(done));
  const stopped = (await s.services.events.list({ type: 'hls.stopped.success', roomId })).at(-1)!;
  const rec = (await s.services.events.list({ type: 'hls.recording.success', roomId })).at(-1)!;
  const vodUrl = String(rec.data.hls_vod_recording_presigned_url);

  // room-vod: every layer, each playlist ends with ENDLIST, and the whole thing plays (ffprobe reads it through)
  const vodMaster = await (await fetch(vodUrl)).text();
  assert.deepEqual(variantUris(vodMaster), ['720p/index.m3u8', '480p/index.m3u8', '360p/index.m3u8']);
  let vodSeconds = 0;
  for (const v of variantUris(vodMaster)) {
    const p = parseMediaPlaylist(await (await fetch(new URL(v, vodUrl))).text());
    assert.ok(p.ended, `${v} ends with #EXT-X-ENDLIST`);
    if (v.startsWith('720p')) vodSeconds = p.segments.reduce((sum, x) => sum + x.duration, 0);
  }
  const vodProbe = JSON.parse((await runTool('ffprobe', ['-v', 'error', '-print_format', 'json', '-show_format', vodUrl], 120_000)).stdout.toString());
  assert.ok(Math.abs(Number(vodProbe.format.duration) - vodSeconds) <= 1, `VOD plays ${vodProbe.format.duration} s of ${vodSeconds} s`);
  const streamSeconds = Number(stopped.data.duration);
  assert.ok(Math.abs(vodSeconds - streamSeconds) <= 1, `VOD ${vodSeconds} s vs stream ${streamSeconds} s`);

  // per-layer MP4s: the layer's resolution and the stream's duration within 1 s
  const files = rec.data.recording_single_files as Array<{ layer: string; width: number; height: number; recording_path: string }>;
  assert.deepEqual(files.map((f) => [f.layer, f.width, f.height]), [['0', 1280, 720], ['1', 854, 480], ['2', 640, 360]]);
  for (const f of files) {
    const info = await probe(s.services.localStorage.fileOf(f.recording_path.replace('local://roomcast/', '')));
    const v = info.streams.find((x) => x.type === 'video')!;
    assert.deepEqual([v.width, v.height], [f.width, f.height]);
    assert.ok(Math.abs(info.duration - vodSeconds) <= 1, `layer ${f.layer}: ${info.duration} s vs ${vodSeconds} s`);
  }
  // what was streamed is the meeting with the host's moving camera, not a blank or frozen page
  const frames = await sampleFrames(s.services.localStorage.fileOf(files[0].recording_path.replace('local://roomcast/', '')), 4);
  assert.equal(frames.length, 4);
  assert.ok(frames.every((f) => f.variance > 100), `picture has detail: ${frames.map((f) => f.variance.toFixed(0))}`);
  assert.ok(frames.slice(1).some((f, i) => frameDifference(f, frames[i]) > 1), 'the picture changes over time');
  console.log(`stream ${streamSeconds} s, VOD ${vodSeconds.toFixed(1)} s`);
  await host.context().close();
  await sleep(100);
});
