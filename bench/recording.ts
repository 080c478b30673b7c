// Composite recording, end to end through the server: peers (headless Chromium, fake camera and microphone)
// in a room, then start/stop by REST with the server's own recorder worker. Figures:
//  - start latency: API call → status running (polled every 50 ms), and API call → first frame (started_at);
//  - stop → asset ready (status completed);
//  - CPU of the recorder's processes (ffmpeg, Chromium, Xvfb + PulseAudio) while recording 720p30, with 2 and
//    4 peers in the room, from /proc utime+stime of their process groups.
import { startTestServer, type TestServer } from '../test/helpers/server.js';
import { launchPeerBrowser, makeMediaFixtures, openPeerPage, sleep, until, waitJoined, type PeerBrowser } from '../test/helpers/meetingPeers.js';
import { groupCpuSeconds, liveProcesses } from '../src/recorder/proc.js';
import type { Page } from 'playwright-core';

export interface RecordingBenchFigures {
  peers: number;
  runs: number;
  start_to_running_ms: number[];
  start_to_running_ms_p50: number;
  start_to_first_frame_ms_p50: number;
  stop_to_asset_ready_ms: number[];
  stop_to_asset_ready_ms_p50: number;
  /** cores (1 = one full core) used by the recorder's processes while recording */
  cpu_cores: { ffmpeg: number; chromium: number; xvfb_pulse: number; total: number };
  measure_seconds: number;
  /** what the first peer's camera encoder sent at the end of the measurement: per layer (rid), size, fps, limit */
  sent_video: Array<{ rid: string; width: number; fps: number; limited_by: string }>;
}

const p50 = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor((xs.length - 1) / 2)];
const round = (n: number, d = 2) => Math.round(n * 10 ** d) / 10 ** d;

async function waitStatus(s: TestServer, id: string, want: string[]): Promise<any> {
  return until(`recording ${want.join('|')}`, async () => {
    const r = await s.api('GET', `/v2/recordings/${id}`);
    return want.includes(r.body.status) ? r.body : null;
  }, 120_000, 50);
}

/** CPU seconds per recorder process group (by wrapper name) right now. */
function recorderCpu(): Record<string, number> {
  const out: Record<string, number> = {};
  for (const p of liveProcesses()) out[p.name] = (out[p.name] ?? 0) + groupCpuSeconds(p.pid);
  return out;
}

/**
 * `env`: the server's settings (e.g. RTC_SIMULCAST); `cameraSize`: the peers' fake camera (640x360 by default);
 * `publishOnly`: the peers receive nobody (a role subscribing to no role), so their pages cost only their encoders.
 */
/** The page's outbound video streams as its getStats gives them. */
function sentVideoOf(page: Page): Promise<RecordingBenchFigures['sent_video']> {
  return page.evaluate(async () => {
    const pc = (window as unknown as { roomcast: { pc: RTCPeerConnection } }).roomcast.pc;
    const out: Array<{ rid: string; width: number; fps: number; limited_by: string }> = [];
    (await pc.getStats()).forEach((r: Record<string, unknown>) => {
      if (r.type === 'outbound-rtp' && r.kind === 'video') out.push({ rid: String(r.rid ?? ''), width: Number(r.frameWidth ?? 0), fps: Number(r.framesPerSecond ?? 0), limited_by: String(r.qualityLimitationReason ?? '') });
    });
    return out;
  });
}

export async function benchRecording(opts: { peers?: number; runs?: number; measureSeconds?: number; env?: Record<string, string>; cameraSize?: string; publishOnly?: boolean } = {}): Promise<RecordingBenchFigures> {
  const peers = opts.peers ?? 2;
  const runs = opts.runs ?? 3;
  const measureSeconds = opts.measureSeconds ?? 15;
  const s = await startTestServer({ RECORDER_WORKERS: '1', ...opts.env });
  const media = makeMediaFixtures(opts.cameraSize);
  const browsers: PeerBrowser[] = [];
  const pages: Page[] = [];
  try {
    let templateId: string | undefined;
    if (opts.publishOnly) {
      templateId = (await s.api('POST', '/v2/templates', { name: `bench-speakers-${peers}` })).body.id;
      await s.api('POST', `/v2/templates/${templateId}/roles/speaker`, { publishParams: { allowed: ['audio', 'video'] }, subscribeParams: { subscribeToRoles: [], maxSubsBitRate: 0 } });
    }
    const roomId = (await s.api('POST', '/v2/rooms', { name: `bench-rec-${peers}`, ...(templateId ? { template_id: templateId } : {}) })).body.id;
    const codes = (await s.api('POST', `/v2/room-codes/room/${roomId}`)).body.data;
    const host = codes.find((c: any) => c.role === (opts.publishOnly ? 'speaker' : 'host')).code;
    // one browser, one context per peer: fewer processes on 2 cores
    const pb = await launchPeerBrowser(media);
    browsers.push(pb);
    for (let i = 0; i < peers; i++) {
      const page = await openPeerPage(pb, `${s.url}/meeting/${host}?skip_preview=true&name=peer${i}`);
      await waitJoined(page, 60_000);
      pages.push(page);
    }
    const toRunning: number[] = [];
    const toFirstFrame: number[] = [];
    const toAsset: number[] = [];
    let cpu = { ffmpeg: 0, chromium: 0, xvfb_pulse: 0, total: 0 };
    let sentVideo: RecordingBenchFigures['sent_video'] = [];
    for (let run = 0; run < runs; run++) {
      const t0 = Date.now();
      const start = await s.api('POST', `/v2/recordings/room/${roomId}/start`, { resolution: { width: 1280, height: 720 } });
      if (start.status !== 200) throw new Error(`start failed: ${JSON.stringify(start.body)}`);
      const running = await waitStatus(s, start.body.id, ['running', 'failed']);
      if (running.status !== 'running') throw new Error(`recording failed: ${JSON.stringify(running)}`);
      toRunning.push(Date.now() - t0);
      toFirstFrame.push(Date.parse(running.started_at) - t0);
      if (run === 0) {
        await sleep(2000); // past the start-up burst
        const a = recorderCpu();
        const ta = Date.now();
        await sleep(measureSeconds * 1000);
        const b = recorderCpu();
        const secs = (Date.now() - ta) / 1000;
        const d = (name: string) => ((b[name] ?? 0) - (a[name] ?? 0)) / secs;
        cpu = { ffmpeg: round(d('ffmpeg')), chromium: round(d('chromium')), xvfb_pulse: round(d('xvfb') + d('pulseaudio')), total: 0 };
        cpu.total = round(cpu.ffmpeg + cpu.chromium + cpu.xvfb_pulse);
        sentVideo = await sentVideoOf(pages[0]);
      } else {
        await sleep(3000);
      }
      const t1 = Date.now();
      await s.api('POST', `/v2/recordings/room/${roomId}/stop`);
      const done = await waitStatus(s, start.body.id, ['completed', 'failed']);
      if (done.status !== 'completed') throw new Error(`recording ended ${done.status}: ${done.error_message}`);
      toAsset.push(Date.now() - t1);
    }
    return {
      peers,
      runs,
      start_to_running_ms: toRunning,
      start_to_running_ms_p50: p50(toRunning),
      start_to_first_frame_ms_p50: p50(toFirstFrame),
      stop_to_asset_ready_ms: toAsset,
      stop_to_asset_ready_ms_p50: p50(toAsset),
      cpu_cores: cpu,
      measure_seconds: measureSeconds,
      sent_video: sentVideo,
    };
  } finally {
    for (const p of pages) await p.close().catch(() => undefined);
    for (const b of browsers) await b.close();
    await s.stop();
    media.remove();
  }
}
