// One lip-sync run through the server: a publisher whose fake camera flashes and whose fake microphone beeps
// together (see syncProbe.ts), a receiving peer that publishes nothing, and the server's own recorder making a
// composite MP4 (and, when asked, a live stream read back as HLS). Used by the sync bench and the e2e test.
import { spawn } from 'node:child_process';
import { copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { startTestServer } from './server.js';
import { calibrationFile } from '../../src/recorder/calibration.js';
import { launchPeerBrowser, openPeerPage, sleep, until, waitJoined, within } from './meetingPeers.js';
import { measureMedia, pairOnsets, readPageOnsets, relativeToSource, startPageProbe, summarize, SYNC_SOURCE_SCRIPT, type SyncFigures } from './syncProbe.js';

export interface SyncRun {
  /** the publisher's own preview and microphone: the offset the fake devices start with */
  source_page: SyncFigures | { error: string };
  /** the receiving peer's meeting page: the publisher's tile as rendered and its sound as played */
  receiver_page: SyncFigures | { error: string };
  /** receiver − source, pair by pair: what the SFU and the receiving browser add */
  receiver_vs_source: SyncFigures | { error: string };
  composite_mp4: SyncFigures | { error: string };
  /** composite − source, pair by pair (the file's timeline placed on the wall clock from started_at) */
  composite_vs_source: SyncFigures | { error: string };
  /** the same from COMPOSITE_SETTLE_S into the file: after the recorder's browser has lip-synced what it receives */
  composite_settled_vs_source: SyncFigures | { error: string };
  hls?: SyncFigures | { error: string };
  /** the recorder's measured capture offset, applied to the composite and HLS (ms the audio was moved later) */
  capture_offset_ms: number;
  /** mean flash and beep periods at the source (2 s when the fake devices keep time) */
  source_periods_s: { flash: number; beep: number };
  seconds: number;
}

/**
 * A browser that has just joined plays a peer's sound and picture apart until its A/V sync has converged
 * (it moves the delays by at most ~80 ms a second): measured here (2 cores, three browsers), the recorder's
 * audio starts 150–800 ms late and meets the picture 6–12 s into the file. Still open in issue 11.
 */
export const COMPOSITE_SETTLE_S = 8;

const meanPeriod = (ts: number[]) => (ts.length > 1 ? Math.round(((ts[ts.length - 1] - ts[0]) / (ts.length - 1)) * 1000) / 1000 : 0);

const NO_DEVICES = `navigator.mediaDevices.getUserMedia = () => Promise.reject(new DOMException('no devices here', 'NotFoundError'));`;

function withoutList<T extends { pairList: unknown }>(f: T): Omit<T, 'pairList'> {
  const { pairList: _, ...rest } = f;
  return rest;
}

async function figures<T>(what: string, fn: () => Promise<T>): Promise<T | { error: string }> {
  try {
    return await fn();
  } catch (err) {
    return { error: `${what}: ${err instanceof Error ? err.message : String(err)}` };
  }
}

export async function runSyncScenario(opts: { seconds: number; hls?: boolean; log?: (m: string) => void }): Promise<SyncRun> {
  const log = opts.log ?? (() => undefined);
  // the recorder measures this machine's capture offset at start (as a production server does); the
  // browsers start once that is done, so that the film it makes is not disturbed by them
  const s = await startTestServer({ RECORDER_WORKERS: '1', RECORDER_AUDIO_OFFSET_MS: 'auto' });
  const calibration = calibrationFile(s.services.config.dataDir);
  try {
    await until('the capture calibration', () => existsSync(calibration), 150_000, 500);
  } catch (err) {
    await s.stop();
    throw err;
  }
  const captureOffsetMs = (JSON.parse(readFileSync(calibration, 'utf8')) as { audioOffsetMs: number }).audioOffsetMs;
  const workDir = mkdtempSync(join(tmpdir(), 'roomcast-sync-'));
  const pb = await launchPeerBrowser();
  const pages: Page[] = [];
  try {
    const roomId = (await s.api('POST', '/v2/rooms', { name: 'sync-probe' })).body.id;
    const codes = (await s.api('POST', `/v2/room-codes/room/${roomId}`)).body.data;
    const host = codes.find((c: any) => c.role === 'host').code;
    const guest = codes.find((c: any) => c.role === 'guest').code;
    const pubCtx = await pb.browser.newContext({ permissions: ['camera', 'microphone'], viewport: { width: 1280, height: 720 }, bypassCSP: true });
    await pubCtx.addInitScript(SYNC_SOURCE_SCRIPT);
    const publisher = await pubCtx.newPage();
    pages.push(publisher);
    await publisher.goto(`${s.url}/meeting/${host}?skip_preview=true&name=flash`);
    await waitJoined(publisher, 60_000);
    const pubId = (await publisher.evaluate('document.body.dataset.peerId')) as string;
    const recvCtx = await pb.browser.newContext({ viewport: { width: 1280, height: 720 }, bypassCSP: true });
    await recvCtx.addInitScript(NO_DEVICES);
    const receiver = await recvCtx.newPage();
    pages.push(receiver);
    await receiver.goto(`${s.url}/meeting/${guest}?skip_preview=true&name=watcher`);
    await waitJoined(receiver, 60_000);
    await until('the receiver shows the publisher', () => receiver.evaluate((id) => {
      const v = document.querySelector(`.tile[data-peer-id="${id}"] video`) as HTMLVideoElement | null;
      return !!v && v.readyState >= 2 && v.videoWidth > 0;
    }, pubId), 60_000);
    await sleep(8000); // jitter buffers and the browser's A/V sync loop settle (it moves the offset ≤ ~80 ms a second)
    await startPageProbe(publisher, null);
    await startPageProbe(receiver, pubId);

    log('recording…');
    const start = await s.api('POST', `/v2/recordings/room/${roomId}/start`, { resolution: { width: 854, height: 480 } });
    if (start.status !== 200) throw new Error(`start failed: ${JSON.stringify(start.body)}`);
    const status = (want: string[]) => until(`recording ${want.join('|')}`, async () => {
      const r = await s.api('GET', `/v2/recordings/${start.body.id}`);
      return want.includes(r.body.status) ? r.body : null;
    }, 120_000, 200);
    const running = await status(['running', 'failed']);
    if (running.status !== 'running') throw new Error(`recording failed: ${running.error_message}`);
    await sleep(opts.seconds * 1000);
    await s.api('POST', `/v2/recordings/room/${roomId}/stop`);
    const src = await readPageOnsets(publisher);
    const recv = await readPageOnsets(receiver);
    const done = await status(['completed', 'failed']);
    if (done.status !== 'completed') throw new Error(`recording ended ${done.status}: ${done.error_message}`);
    const file = s.services.localStorage.fileOf(done.recording_assets[0].path.replace('local://roomcast/', ''));
    if (process.env.SYNC_KEEP) copyFileSync(file, join(process.env.SYNC_KEEP, 'composite.mp4'));
    const srcPairs = pairOnsets(src);
    const recvPairs = pairOnsets(recv);
    const composite = await figures('composite mp4', () => measureMedia(file));
    // the file starts around started_at; a flash reaches it some 0.2–1.5 s after the source showed it
    const fileStart = Date.parse(done.started_at) / 1000;
    const compositePairs = () => {
      if (!('pairList' in composite)) throw new Error('no composite pairs');
      return relativeToSource(composite.pairList, srcPairs, (at) => fileStart + at - 0.9);
    };
    const out: SyncRun = {
      source_page: await figures('source page', async () => summarize(srcPairs)),
      receiver_page: await figures('receiver page', async () => summarize(recvPairs)),
      receiver_vs_source: await figures('receiver vs source', async () => summarize(relativeToSource(recvPairs, srcPairs, (at) => at - 0.3))),
      composite_mp4: 'pairList' in composite ? withoutList(composite) : composite,
      composite_vs_source: await figures('composite vs source', async () => summarize(compositePairs())),
      composite_settled_vs_source: await figures('composite vs source, settled', async () => summarize(compositePairs().filter((p) => p.at >= COMPOSITE_SETTLE_S))),
      source_periods_s: { flash: meanPeriod(src.flashes), beep: meanPeriod(src.beeps) },
      capture_offset_ms: captureOffsetMs,
      seconds: opts.seconds,
    };

    if (opts.hls) {
      log('live streaming…');
      out.hls = await figures('hls', async () => {
        const st = await s.api('POST', `/v2/live-streams/room/${roomId}/start`, {});
        if (st.status !== 200) throw new Error(`start failed: ${JSON.stringify(st.body)}`);
        const live = await until('stream running', async () => {
          const r = await s.api('GET', `/v2/live-streams/${st.body.id}`);
          if (r.body.status === 'failed') throw new Error(`stream failed: ${r.body.error_message}`);
          return r.body.status === 'running' ? r.body : null;
        }, 120_000, 200);
        // read the playlist from its first segment until #EXT-X-ENDLIST, into one file
        const ts = join(workDir, 'live.ts');
        const reader = spawn('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-live_start_index', '0', '-i', live.playback.url, '-map', '0:v:0', '-map', '0:a:0', '-c', 'copy', '-y', ts], { stdio: 'ignore' });
        const readerDone = new Promise((r) => reader.on('close', r));
        try {
          await sleep(opts.seconds * 1000);
          await s.api('POST', `/v2/live-streams/${st.body.id}/stop`);
          await within(readerDone, 30_000);
        } finally {
          if (reader.exitCode === null) reader.kill('SIGINT');
          await within(readerDone, 5000);
          if (reader.exitCode === null) reader.kill('SIGKILL');
        }
        await until('stream ended', async () => {
          const r = await s.api('GET', `/v2/live-streams/${st.body.id}`);
          return ['completed', 'failed'].includes(r.body.status) ? r.body : null;
        }, 120_000, 200);
        return withoutList(await measureMedia(ts));
      });
    }
    return out;
  } finally {
    for (const p of pages) await p.close().catch(() => undefined);
    await pb.close();
    await s.stop();
    rmSync(workDir, { recursive: true, force: true });
  }
}
