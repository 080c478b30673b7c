// Headless Chromium peers for meeting tests and the SFU bench: fake camera/microphone fed from files the
// helper makes with ffmpeg, one Chromium process per `launchPeerBrowser` (so a test can SIGKILL one).
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type Browser, type BrowserServer, type Page } from 'playwright-core';

export const CHROMIUM_PATH = '/usr/bin/chromium';

export interface MediaFixtures {
  dir: string;
  video: string;
  audio: string;
  remove(): void;
}

/** A 640×360 (or `size`) 15 fps test pattern (y4m) and a 440 Hz tone (wav), 4 s each; Chromium loops them. */
export function makeMediaFixtures(size = '640x360'): MediaFixtures {
  const dir = mkdtempSync(join(tmpdir(), 'roomcast-media-'));
  const video = join(dir, 'camera.y4m');
  const audio = join(dir, 'mic.wav');
  const run = (args: string[]) => {
    const r = spawnSync('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-y', ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
    if (r.status !== 0) throw new Error(`ffmpeg failed: ${r.stderr?.toString()}`);
  };
  run(['-f', 'lavfi', '-i', `testsrc2=size=${size}:rate=15`, '-t', '4', '-pix_fmt', 'yuv420p', video]);
  run(['-f', 'lavfi', '-i', 'sine=frequency=440:sample_rate=48000', '-t', '4', '-ac', '1', audio]);
  return { dir, video, audio, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

export interface PeerBrowser {
  browser: Browser;
  server: BrowserServer;
  pid: number;
  /** SIGKILL the browser (tab kill / crash), then make sure nothing of it is left */
  kill(): void;
  close(): Promise<void>;
}

/** `executablePath`: another way to start Chromium (one inside a network namespace, helpers/netns.ts); `args`: more flags. */
export async function launchPeerBrowser(media?: MediaFixtures, opts: { executablePath?: string; args?: string[] } = {}): Promise<PeerBrowser> {
  const args = [
    '--no-sandbox',
    '--disable-gpu',
    '--disable-quic',
    '--no-first-run',
    '--disable-background-networking',
    '--disable-component-update',
    '--disable-sync',
    '--test-type',
    '--use-fake-device-for-media-stream',
    '--use-fake-ui-for-media-stream',
    '--autoplay-policy=no-user-gesture-required',
    // background tabs in one browser would otherwise throttle timers and rendering
    '--disable-background-timer-throttling',
    '--disable-renderer-backgrounding',
    '--disable-backgrounding-occluded-windows',
  ];
  if (media) args.push(`--use-file-for-fake-video-capture=${media.video}`, `--use-file-for-fake-audio-capture=${media.audio}`);
  args.push(...(opts.args ?? []));
  if (!existsSync(CHROMIUM_PATH)) throw new Error(`${CHROMIUM_PATH} missing`);
  const server = await chromium.launchServer({ executablePath: opts.executablePath ?? CHROMIUM_PATH, headless: true, args });
  const browser = await chromium.connect(server.wsEndpoint());
  const pid = server.process().pid ?? 0;
  const killGroup = () => {
    // playwright starts the browser as a process-group leader: the group takes its helpers (GPU, network…)
    for (const target of [-pid, pid]) {
      try {
        process.kill(target, 'SIGKILL');
      } catch {
        /* already gone */
      }
    }
  };
  let closed = false;
  return {
    browser,
    server,
    pid,
    kill() {
      closed = true;
      killGroup();
    },
    async close() {
      if (closed) return;
      closed = true;
      await browser.close().catch(() => undefined);
      await server.close().catch(() => undefined);
      killGroup();
    },
  };
}

/** A page in a fresh context with camera and microphone allowed. */
export async function openPeerPage(pb: PeerBrowser, url: string): Promise<Page> {
  const context = await pb.browser.newContext({ permissions: ['camera', 'microphone'], viewport: { width: 1280, height: 720 } });
  const page = await context.newPage();
  await page.goto(url);
  return page;
}

export function waitJoined(page: Page, timeoutMs = 30_000): Promise<unknown> {
  return page.waitForFunction(() => document.body.dataset.joined === 'true', null, { timeout: timeoutMs });
}

export interface VideoSample {
  width: number;
  frames: number;
}

/** videoWidth and decoded frame count of the videos matching `selector`. */
export function sampleVideos(page: Page, selector: string): Promise<VideoSample[]> {
  return page.evaluate(
    (sel) =>
      [...document.querySelectorAll<HTMLVideoElement>(sel)].map((v) => ({
        width: v.videoWidth,
        frames: v.getVideoPlaybackQuality().totalVideoFrames,
      })),
    selector,
  );
}

export interface RtpStats {
  audioPackets: number;
  audioEnergy: number;
  videoBytesIn: number;
  videoFramesDecoded: number;
  videoBytesOut: number;
}

/** Inbound/outbound RTP totals from the page's RTCPeerConnection. */
export function rtpStats(page: Page): Promise<RtpStats> {
  return page.evaluate(async () => {
    const out = { audioPackets: 0, audioEnergy: 0, videoBytesIn: 0, videoFramesDecoded: 0, videoBytesOut: 0 };
    const pc = (window as unknown as { roomcast?: { pc: RTCPeerConnection | null } }).roomcast?.pc;
    if (!pc) return out;
    const report = await pc.getStats();
    report.forEach((r: Record<string, unknown>) => {
      if (r.type === 'inbound-rtp' && r.kind === 'audio') {
        out.audioPackets += Number(r.packetsReceived ?? 0);
        out.audioEnergy += Number(r.totalAudioEnergy ?? 0);
      }
      if (r.type === 'inbound-rtp' && r.kind === 'video') {
        out.videoBytesIn += Number(r.bytesReceived ?? 0);
        out.videoFramesDecoded += Number(r.framesDecoded ?? 0);
      }
      if (r.type === 'outbound-rtp' && r.kind === 'video') out.videoBytesOut += Number(r.bytesSent ?? 0);
    });
    return out;
  });
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** `p`, or 'timeout' after `ms`: the timer goes with the race (a bare sleep in a race keeps the test process alive for its whole length). */
export async function within<T>(p: Promise<T>, ms: number): Promise<T | 'timeout'> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<'timeout'>((resolve) => (timer = setTimeout(() => resolve('timeout'), ms)));
  try {
    return await Promise.race([p, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** Polls `fn` until it returns a truthy value or `timeoutMs` passes (then throws with `what`). */
export async function until<T>(what: string, fn: () => Promise<T> | T, timeoutMs = 30_000, everyMs = 250): Promise<NonNullable<T>> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v) return v as NonNullable<T>;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(everyMs);
  }
}
