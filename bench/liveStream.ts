// Live streaming through the server: a peer (fake camera and microphone) in the room, start by REST with the
// server's own recorder worker writing the default 720p/480p/360p ladder, hls.js in headless Chromium playing
// the playback URL. Figures:
//  - start → running (every layer has a playable segment);
//  - glass-to-glass latency: the peer's camera is a canvas whose colour encodes the wall clock (one of 8 hues,
//    changing every second). A player of the playback URL reads the mean colour of each frame it shows; when
//    the hue changes to k at time t, that picture was made in the last second s ≡ k (mod 8) before t, so
//    latency = t − start of s (unambiguous up to 8 s, ±0.1 s sampling). Both ends use this machine's clock;
//  - for comparison, what hls.js itself reports: now − hls.playingDate (EXT-X-PROGRAM-DATE-TIME of the frame
//    on screen, stamped by the encoder, so it leaves out the WebRTC leg and the recorder page);
//  - CPU of the recorder's processes for the ladder.
import { createServer, type Server } from 'node:http';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { startTestServer } from '../test/helpers/server.js';
import { launchPeerBrowser, makeMediaFixtures, openPeerPage, sleep, until, waitJoined } from '../test/helpers/meetingPeers.js';
import { groupCpuSeconds, liveProcesses } from '../src/recorder/proc.js';
import { layersOf } from '../src/store/liveStreams.js';

export interface LiveStreamBenchFigures {
  start_to_running_ms: number;
  /** seconds from the peer's camera to a player's screen (colour clock; one sample per second) */
  glass_to_glass_s_median: number;
  glass_to_glass_s_min: number;
  glass_to_glass_s_max: number;
  glass_to_glass_samples: number;
  /** now − hls.playingDate: encoder stamp to screen */
  hls_playing_date_lag_s_median: number;
  cpu_cores: { ffmpeg: number; chromium: number; xvfb_pulse: number; total: number };
  layers: string[];
  measure_seconds: number;
}

/** 8 saturated colours far apart; the camera shows HUES[floor(now / 1 s) mod 8]. */
const HUES: Array<[number, number, number]> = [
  [255, 0, 0], [0, 200, 0], [0, 0, 255], [255, 255, 0], [255, 0, 255], [0, 255, 255], [255, 128, 0], [128, 0, 255],
];

const PLAYER = `<!doctype html><video id="v" muted autoplay playsinline></video><script src="/hls.min.js"></script>
<script>
  window.samples = []; window.glass = [];
  const HUES = ${JSON.stringify(HUES)};
  const v = document.getElementById('v');
  const hls = new Hls({ enableWorker: false });
  hls.loadSource(new URLSearchParams(location.search).get('src'));
  hls.attachMedia(v);
  const c = document.createElement('canvas'); c.width = 64; c.height = 36;
  const g = c.getContext('2d', { willReadFrequently: true });
  let last = -1;
  setInterval(() => {
    const d = hls.playingDate;
    if (d && !v.paused) window.samples.push((Date.now() - d.getTime()) / 1000);
    if (v.readyState < 2 || v.paused) return;
    g.drawImage(v, 0, 0, 64, 36);
    const px = g.getImageData(0, 0, 64, 36).data;
    // the clock tile is the saturated part of the picture: average only saturated pixels
    let r = 0, gr = 0, b = 0, n = 0;
    for (let i = 0; i < px.length; i += 4) {
      const mx = Math.max(px[i], px[i + 1], px[i + 2]), mn = Math.min(px[i], px[i + 1], px[i + 2]);
      if (mx - mn > 80) { r += px[i]; gr += px[i + 1]; b += px[i + 2]; n++; }
    }
    if (n < 20) return;
    r /= n; gr /= n; b /= n;
    let k = 0, best = Infinity;
    HUES.forEach((h, i) => { const dd = (h[0] - r) ** 2 + (h[1] - gr) ** 2 + (h[2] - b) ** 2; if (dd < best) { best = dd; k = i; } });
    if (k !== last && last !== -1 && k === (last + 1) % HUES.length) {
      const now = Date.now();
      // the latest second s with s mod 8 = k that started before now
      let s = Math.floor(now / 1000);
      while (((s % HUES.length) + HUES.length) % HUES.length !== k) s--;
      window.glass.push((now - s * 1000) / 1000);
    }
    last = k;
  }, 100);
</script>`;

/** Replaces the meeting page's camera with a canvas showing the colour clock (the microphone stays real). */
const COLOUR_CLOCK_CAMERA = `(() => {
  const HUES = ${JSON.stringify(HUES)};
  const orig = navigator.mediaDevices.getUserMedia.bind(navigator.mediaDevices);
  navigator.mediaDevices.getUserMedia = async (c) => {
    const out = new MediaStream();
    if (c && c.audio) (await orig({ audio: c.audio })).getAudioTracks().forEach((t) => out.addTrack(t));
    if (c && c.video) {
      const cv = document.createElement('canvas'); cv.width = 640; cv.height = 360;
      const g = cv.getContext('2d');
      const paint = () => { const h = HUES[Math.floor(Date.now() / 1000) % HUES.length]; g.fillStyle = 'rgb(' + h.join(',') + ')'; g.fillRect(0, 0, 640, 360); };
      paint(); setInterval(paint, 20);
      cv.captureStream(30).getVideoTracks().forEach((t) => out.addTrack(t));
    }
    return out;
  };
})();`;

const round = (n: number, d = 2) => Math.round(n * 10 ** d) / 10 ** d;

function recorderCpu(): Record<string, number> {
  const out: Record<string, number> = {};
  for (const p of liveProcesses()) out[p.name] = (out[p.name] ?? 0) + groupCpuSeconds(p.pid);
  return out;
}

export async function benchLiveStream(opts: { measureSeconds?: number } = {}): Promise<LiveStreamBenchFigures> {
  const measureSeconds = opts.measureSeconds ?? 20;
  const s = await startTestServer({ RECORDER_WORKERS: '1' });
  const media = makeMediaFixtures();
  const hlsJs = readFileSync(createRequire(import.meta.url).resolve('hls.js/dist/hls.min.js'));
  const site: Server = createServer((req, res) => {
    if (req.url?.startsWith('/hls.min.js')) res.writeHead(200, { 'content-type': 'text/javascript' }).end(hlsJs);
    else res.writeHead(200, { 'content-type': 'text/html' }).end(PLAYER);
  });
  await new Promise<void>((r) => site.listen(0, '127.0.0.1', r));
  const addr = site.address();
  const origin = `http://127.0.0.1:${typeof addr === 'object' && addr ? addr.port : 0}`;
  const pb = await launchPeerBrowser(media);
  try {
    const roomId = (await s.api('POST', '/v2/rooms', { name: 'bench-live' })).body.id;
    const host = (await s.api('POST', `/v2/room-codes/room/${roomId}`)).body.data.find((c: any) => c.role === 'host').code;
    const ctx = await pb.browser.newContext({ permissions: ['camera', 'microphone'], viewport: { width: 1280, height: 720 } });
    await ctx.addInitScript(COLOUR_CLOCK_CAMERA);
    const peer = await ctx.newPage();
    await peer.goto(`${s.url}/meeting/${host}?skip_preview=true&name=host`);
    await waitJoined(peer, 60_000);
    const t0 = Date.now();
    const start = await s.api('POST', `/v2/live-streams/room/${roomId}/start`, {});
    if (start.status !== 200) throw new Error(`start failed: ${JSON.stringify(start.body)}`);
    const running = await until('stream running', async () => {
      const r = await s.api('GET', `/v2/live-streams/${start.body.id}`);
      if (r.body.status === 'failed') throw new Error(`stream failed: ${r.body.error_message}`);
      return r.body.status === 'running' ? r.body : null;
    }, 120_000, 50);
    const startToRunning = Date.now() - t0;
    const player = await openPeerPage(pb, `${origin}/?src=${encodeURIComponent(running.playback.url)}`);
    await sleep(6000); // the player settles at its live edge
    await player.evaluate('window.samples = []; window.glass = []');
    const a = recorderCpu();
    const ta = Date.now();
    await sleep(measureSeconds * 1000);
    const b = recorderCpu();
    const secs = (Date.now() - ta) / 1000;
    const samples = (await player.evaluate('window.samples')) as number[];
    const glass = (await player.evaluate('window.glass')) as number[];
    const d = (name: string) => ((b[name] ?? 0) - (a[name] ?? 0)) / secs;
    const cpu = { ffmpeg: round(d('ffmpeg')), chromium: round(d('chromium')), xvfb_pulse: round(d('xvfb') + d('pulseaudio')), total: 0 };
    cpu.total = round(cpu.ffmpeg + cpu.chromium + cpu.xvfb_pulse);
    await s.api('POST', `/v2/live-streams/${start.body.id}/stop`);
    await until('stream ended', async () => {
      const r = await s.api('GET', `/v2/live-streams/${start.body.id}`);
      return ['completed', 'failed'].includes(r.body.status) ? r.body : null;
    }, 120_000, 200);
    if (samples.length === 0) throw new Error('the player never played');
    if (glass.length === 0) throw new Error('the player never saw the colour clock change');
    const median = (xs: number[]) => [...xs].sort((x, y) => x - y)[Math.floor(xs.length / 2)];
    return {
      start_to_running_ms: startToRunning,
      glass_to_glass_s_median: round(median(glass)),
      glass_to_glass_s_min: round(Math.min(...glass)),
      glass_to_glass_s_max: round(Math.max(...glass)),
      glass_to_glass_samples: glass.length,
      hls_playing_date_lag_s_median: round(median(samples)),
      cpu_cores: cpu,
      layers: layersOf(await s.services.store.db.selectFrom('live_streams').select('layers').where('id', '=', start.body.id).executeTakeFirstOrThrow()).map((l) => `${l.width}x${l.height}`),
      measure_seconds: measureSeconds,
    };
  } finally {
    await pb.close();
    await s.stop();
    site.close();
    media.remove();
  }
}
