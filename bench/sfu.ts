// SFU figures: server-process CPU per forwarded stream and for a 4-peer room, and join time (page load →
// first remote frame). Real headless Chromium peers with a file-fed fake camera (640×360 15 fps) and mic.
//
// CPU is process.cpuUsage() of this process over quiet windows: the SFU runs in-process here, and the
// Playwright client is idle while we measure. Chromium's own CPU is not counted.
import { pathToFileURL } from 'node:url';
import { startTestServer } from '../test/helpers/server.js';
import { launchPeerBrowser, makeMediaFixtures, openPeerPage, sleep, until, waitJoined } from '../test/helpers/meetingPeers.js';
import { createRoomCode } from '../src/store/roomCodes.js';
import type { Page } from 'playwright-core';
import type { Sfu } from '../src/sfu/index.js';

export interface SfuBenchResult {
  measure_seconds: number;
  /** % of one core used by the server process */
  cpu_idle_pct: number;
  cpu_2_peers_pct: number;
  cpu_4_peers_pct: number;
  /** forwarded streams = (publisher track → subscriber) pairs */
  streams_2_peers: number;
  streams_4_peers: number;
  /** marginal cost of one more forwarded stream, from the 2-peer and 4-peer figures */
  cpu_per_stream_pct: number;
  /** video bitrate a publisher sent through the SFU (kbit/s, mean over publishers) in the 4-peer room */
  video_kbps_per_publisher: number;
  /** ms from navigation start to the first decoded remote frame, per joining page (2nd, 3rd, 4th peer) */
  join_to_first_frame_ms: number[];
  join_to_first_frame_ms_median: number;
}

interface Window {
  cpuPct: number;
  videoBytes: number;
  videoPublishers: number;
  seconds: number;
}

/** server CPU and forwarded video bytes over `seconds` of quiet */
async function measure(sfu: Sfu, seconds: number): Promise<Window> {
  const videoBytes = () => {
    let bytes = 0;
    let pubs = 0;
    for (const room of sfu.rooms.values()) {
      for (const peer of room.peers.values()) {
        for (const pub of peer.publications.values()) {
          if (pub.kind === 'audio' || !pub.forwarder) continue;
          bytes += pub.forwarder.stats.bytes;
          pubs++;
        }
      }
    }
    return { bytes, pubs };
  };
  const b0 = videoBytes();
  const c0 = process.cpuUsage();
  const t0 = process.hrtime.bigint();
  await sleep(seconds * 1000);
  const c = process.cpuUsage(c0);
  const wallUs = Number(process.hrtime.bigint() - t0) / 1000;
  const b1 = videoBytes();
  return { cpuPct: ((c.user + c.system) / wallUs) * 100, videoBytes: b1.bytes - b0.bytes, videoPublishers: b1.pubs, seconds: wallUs / 1e6 };
}

function forwardedStreams(sfu: Sfu): number {
  let n = 0;
  for (const room of sfu.rooms.values()) for (const peer of room.peers.values()) for (const pub of peer.publications.values()) n += pub.forwarder?.stats.sinks ?? 0;
  return n;
}

const round = (x: number, digits = 1) => Math.round(x * 10 ** digits) / 10 ** digits;

export async function benchSfu(opts: { seconds?: number } = {}): Promise<SfuBenchResult> {
  const seconds = opts.seconds ?? 10;
  const media = makeMediaFixtures();
  const server = await startTestServer({ LOG_LEVEL: 'warn' });
  const browser = await launchPeerBrowser(media);
  const pages: Page[] = [];
  try {
    const room = await server.api('POST', '/v2/rooms', { name: 'bench-sfu' });
    const code = (await createRoomCode(server.services.store.db, room.body.id, 'host')).code;
    const sfu = server.services.sfu;
    const idle = await measure(sfu, Math.min(5, seconds));

    const joinTimes: number[] = [];
    const addPeer = async (i: number) => {
      const page = await openPeerPage(browser, `${server.url}/meeting/${code}?skip_preview_headful=true&name=peer-${i}`);
      await waitJoined(page);
      pages.push(page);
      if (i > 0) {
        // everyone before this peer already publishes: time until its first remote frame
        const ms = await until('first remote frame', () => page.evaluate(() => Number(document.body.dataset.firstFrameMs ?? 0)), 60_000);
        joinTimes.push(ms);
      }
    };
    const settle = async (peers: number) => {
      // every peer receives (peers - 1) × 2 streams once all negotiations are done
      await until('all streams forwarded', () => forwardedStreams(sfu) === peers * (peers - 1) * 2, 60_000);
      await sleep(3000); // let Chrome's bitrate ramp up
    };

    await addPeer(0);
    await addPeer(1);
    await settle(2);
    const two = await measure(sfu, seconds);
    const streams2 = forwardedStreams(sfu);

    await addPeer(2);
    await addPeer(3);
    await settle(4);
    const four = await measure(sfu, seconds);
    const streams4 = forwardedStreams(sfu);

    const sorted = [...joinTimes].sort((a, b) => a - b);
    return {
      measure_seconds: seconds,
      cpu_idle_pct: round(idle.cpuPct),
      cpu_2_peers_pct: round(two.cpuPct),
      cpu_4_peers_pct: round(four.cpuPct),
      streams_2_peers: streams2,
      streams_4_peers: streams4,
      cpu_per_stream_pct: round((four.cpuPct - two.cpuPct) / Math.max(1, streams4 - streams2), 2),
      video_kbps_per_publisher: round((four.videoBytes * 8) / 1000 / four.seconds / Math.max(1, four.videoPublishers), 0),
      join_to_first_frame_ms: joinTimes,
      join_to_first_frame_ms_median: sorted[Math.floor(sorted.length / 2)] ?? 0,
    };
  } finally {
    for (const p of pages) await p.context().close().catch(() => undefined);
    await browser.close();
    await server.stop();
    media.remove();
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  benchSfu({ seconds: Number(process.env.BENCH_SECONDS ?? 10) }).then(
    (r) => console.log(JSON.stringify({ sfu: r }, null, 2)),
    (err: unknown) => {
      console.error(err);
      process.exit(1);
    },
  );
}
