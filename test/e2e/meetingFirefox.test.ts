// The meeting page in Firefox: Debian's firefox-esr (stock, not Playwright's patched build) joins a room
// next to a headless Chromium peer; each decodes the other's camera and receives the other's audio.
// Firefox is driven over WebDriver BiDi by the small client below: playwright-core's BiDi channel
// ('moz-firefox') needs `emulation.setMediaFeaturesOverride`, which Firefox ESR 153 does not implement, so
// its newContext() fails. Fake camera/microphone come from Firefox prefs.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import WebSocket from 'ws';
import type { Page } from 'playwright-core';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { launchPeerBrowser, makeMediaFixtures, openPeerPage, rtpStats, sampleVideos, until, waitJoined, within, type MediaFixtures, type PeerBrowser } from '../helpers/meetingPeers.js';

const FIREFOX_PATH = '/usr/bin/firefox-esr';

const FIREFOX_PREFS: Record<string, boolean | number | string> = {
  // fake camera (a changing picture) and microphone (a tone), no permission prompt
  'media.navigator.streams.fake': true,
  'media.navigator.permission.disabled': true,
  'media.autoplay.default': 0,
  'media.autoplay.blocking_policy': 0,
  // the SFU offers host candidates on this machine: let Firefox pair them, unhidden by mDNS names
  'media.peerconnection.ice.loopback': true,
  'media.peerconnection.ice.obfuscate_host_addresses': false,
  // nothing of Firefox's own calls home during a test
  'browser.shell.checkDefaultBrowser': false,
  'app.update.disabledForTesting': true,
  'datareporting.policy.dataSubmissionEnabled': false,
  'toolkit.telemetry.reportingpolicy.firstRun': false,
  'network.captive-portal-service.enabled': false,
  'network.connectivity-service.enabled': false,
};

/** One stock Firefox process driven over WebDriver BiDi: navigate and evaluate in its first tab. */
interface BidiFirefox {
  pid: number;
  version: string;
  goto(url: string): Promise<void>;
  /** runs `fn(arg)` in the page and returns its (awaited) JSON-serialisable result */
  evaluate<T, A = undefined>(fn: (arg: A) => T | Promise<T>, arg?: A): Promise<T>;
  close(): Promise<void>;
}

async function launchFirefox(): Promise<BidiFirefox> {
  if (!existsSync(FIREFOX_PATH)) throw new Error(`${FIREFOX_PATH} missing (apt-get install firefox-esr)`);
  const profile = mkdtempSync(join(tmpdir(), 'roomcast-firefox-'));
  writeFileSync(join(profile, 'user.js'), Object.entries(FIREFOX_PREFS).map(([k, v]) => `user_pref(${JSON.stringify(k)}, ${JSON.stringify(v)});\n`).join(''));
  // its own process group, so the content processes go with it
  const proc: ChildProcess = spawn(FIREFOX_PATH, ['--headless', '--no-remote', '--remote-debugging-port=0', '--profile', profile], {
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, MOZ_CRASHREPORTER_DISABLE: '1', MOZ_CRASHREPORTER_NO_REPORT: '1' },
  });
  const pid = proc.pid ?? 0;
  let output = '';
  const exited = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
  const cleanup = async () => {
    for (const target of [-pid, pid]) {
      try {
        process.kill(target, 'SIGKILL');
      } catch {
        /* already gone */
      }
    }
    if (proc.exitCode === null && proc.signalCode === null) await exited;
    // Firefox's crash helper runs in its own session, named after the browser's pid: end it by its pid
    for (const other of helperPids(pid)) {
      try {
        process.kill(other, 'SIGKILL');
      } catch {
        /* already gone */
      }
    }
    rmSync(profile, { recursive: true, force: true });
  };
  try {
    const endpoint = await new Promise<string>((resolve, reject) => {
      const onData = (d: Buffer) => {
        output = (output + d.toString()).slice(-8000);
        const m = /WebDriver BiDi listening on (ws:\/\/\S+)/.exec(output);
        if (m) resolve(m[1]);
      };
      proc.stdout?.on('data', onData);
      proc.stderr?.on('data', onData);
      proc.once('exit', (code) => reject(new Error(`firefox exited (${code}) before BiDi was up: ${output}`)));
      setTimeout(() => reject(new Error(`firefox BiDi not up after 60 s: ${output}`)), 60_000).unref();
    });
    const ws = new WebSocket(`${endpoint}/session`);
    await new Promise((resolve, reject) => ws.once('open', resolve).once('error', reject));
    let nextId = 0;
    const pending = new Map<number, { resolve: (v: any) => void; reject: (e: Error) => void }>();
    ws.on('message', (data) => {
      const msg = JSON.parse(data.toString());
      const p = pending.get(msg.id);
      if (!p) return; // events: none subscribed
      pending.delete(msg.id);
      if (msg.type === 'error') p.reject(new Error(`${msg.error}: ${msg.message}`));
      else p.resolve(msg.result);
    });
    ws.on('close', () => {
      for (const p of pending.values()) p.reject(new Error('BiDi connection closed'));
      pending.clear();
    });
    const send = (method: string, params: object = {}): Promise<any> =>
      new Promise((resolve, reject) => {
        const id = ++nextId;
        pending.set(id, { resolve, reject });
        ws.send(JSON.stringify({ id, method, params }));
      });
    const session = await send('session.new', { capabilities: {} });
    const tree = await send('browsingContext.getTree', { maxDepth: 0 });
    const context: string = tree.contexts[0].context;
    return {
      pid,
      version: String(session.capabilities.browserVersion),
      async goto(url) {
        await send('browsingContext.navigate', { context, url, wait: 'complete' });
      },
      async evaluate(fn, arg) {
        // the result travels as a JSON string: BiDi's remote values are not worth decoding here
        const expression = `(async () => JSON.stringify(await (${fn.toString()})(${JSON.stringify(arg) ?? 'undefined'}) ?? null))()`;
        const r = await send('script.evaluate', { expression, target: { context }, awaitPromise: true, resultOwnership: 'none' });
        if (r.type === 'exception') throw new Error(`in Firefox: ${r.exceptionDetails.text}`);
        return JSON.parse(r.result.value);
      },
      async close() {
        await within(send('browser.close').catch(() => undefined), 10_000);
        ws.close();
        await within(exited, 10_000);
        await cleanup();
      },
    };
  } catch (err) {
    await cleanup();
    throw err;
  }
}

/** processes still around from the Firefox started as `pid`: its group, and the crash helper that names it */
function helperPids(pid: number): number[] {
  const out: number[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (fields[0] === 'Z') continue;
      const cmd = readFileSync(`/proc/${name}/cmdline`, 'utf8').split('\0');
      if (Number(fields[2]) === pid || (cmd[0].endsWith('/crashhelper') && cmd[1] === String(pid))) out.push(Number(name));
    } catch {
      /* gone meanwhile */
    }
  }
  return out;
}

interface FoxStats {
  audioPackets: number;
  videoFramesDecoded: number;
  videoBytesOut: number;
  audioBytesOut: number;
}

/** inbound/outbound RTP totals of the page's RTCPeerConnection, in Firefox */
const foxStats = (fox: BidiFirefox) =>
  fox.evaluate(async (): Promise<FoxStats> => {
    const out = { audioPackets: 0, videoFramesDecoded: 0, videoBytesOut: 0, audioBytesOut: 0 };
    const pc = (window as unknown as { roomcast?: { pc: RTCPeerConnection | null } }).roomcast?.pc;
    if (!pc) return out;
    (await pc.getStats()).forEach((r: Record<string, unknown>) => {
      if (r.type === 'inbound-rtp' && r.kind === 'audio') out.audioPackets += Number(r.packetsReceived ?? 0);
      if (r.type === 'inbound-rtp' && r.kind === 'video') out.videoFramesDecoded += Number(r.framesDecoded ?? 0);
      if (r.type === 'outbound-rtp' && r.kind === 'video') out.videoBytesOut += Number(r.bytesSent ?? 0);
      if (r.type === 'outbound-rtp' && r.kind === 'audio') out.audioBytesOut += Number(r.bytesSent ?? 0);
    });
    return out;
  });

/**
 * size, shown frames and play position of the videos matching `selector`, in Firefox. Firefox counts no
 * `getVideoPlaybackQuality().totalVideoFrames` for a MediaStream source (always 0), so frames are the
 * cumulative `presentedFrames` of the next requestVideoFrameCallback (-1 when none comes within 2 s).
 */
const foxVideos = (fox: BidiFirefox, selector: string) =>
  fox.evaluate(
    (sel: string) =>
      Promise.all(
        [...document.querySelectorAll<HTMLVideoElement>(sel)].map(async (v) => ({
          width: v.videoWidth,
          frames: await new Promise<number>((resolve) => {
            v.requestVideoFrameCallback((_now, meta) => resolve(meta.presentedFrames));
            setTimeout(() => resolve(-1), 2000);
          }),
          time: v.currentTime,
        })),
      ),
    selector,
  );

let s: TestServer;
let media: MediaFixtures;
let chromium: PeerBrowser;
let fox: BidiFirefox;
let roomId: string;
let code: string;
let crow: Page;
let crowPeer: string;
let foxPeer: string;

before(async () => {
  s = await startTestServer();
  media = makeMediaFixtures();
  const room = await s.api('POST', '/v2/rooms', { name: 'e2e-firefox' });
  assert.equal(room.status, 200);
  roomId = room.body.id;
  const codes = await s.api('POST', `/v2/room-codes/room/${roomId}`);
  assert.equal(codes.status, 200, JSON.stringify(codes.body));
  code = codes.body.data.find((c: { role: string }) => c.role === 'host').code;
  // one browser at a time: both starting together is slow on 2 cores
  chromium = await launchPeerBrowser(media);
  fox = await launchFirefox();
  console.log(`# Firefox ${fox.version}`);
});

after(async () => {
  const foxPid = fox?.pid;
  await fox?.close();
  await chromium?.close();
  await s?.stop();
  media?.remove();
  if (foxPid) assert.deepEqual(helperPids(foxPid), [], 'Firefox processes left behind');
});

test('Firefox joins through the meeting URL next to Chromium; each decodes and hears the other', async () => {
  crow = await openPeerPage(chromium, `${s.url}/meeting/${code}?skip_preview_headful=true&name=Crow`);
  await fox.goto(`${s.url}/meeting/${code}?skip_preview_headful=true&name=Fox`);
  await waitJoined(crow, 60_000);
  await until('Firefox joined', () => fox.evaluate(() => document.body.dataset.joined === 'true'), 60_000).catch(async (err: Error) => {
    throw new Error(`${err.message}: ${JSON.stringify(await fox.evaluate(() => ({ ...document.body.dataset })))}`);
  });
  crowPeer = await crow.evaluate(() => document.body.dataset.peerId ?? '');
  foxPeer = await fox.evaluate(() => document.body.dataset.peerId ?? '');
  assert.match(foxPeer, /^[0-9a-f-]{36}$/);
  assert.notEqual(foxPeer, crowPeer);

  // the SFU has Firefox's camera and microphone
  const published = () => [...(s.services.sfu.rooms.get(roomId)?.peers.get(foxPeer)?.publications.values() ?? [])].filter((p) => !p.ended).map((p) => p.kind).sort();
  await until("Firefox's tracks published", () => published().length === 2);
  assert.deepEqual(published(), ['audio', 'camera']);

  const diagnose = async () =>
    JSON.stringify({
      fox: await fox.evaluate(() => ({
        connection: document.body.dataset.connection,
        tiles: (window as any).roomcast.tiles(),
        transceivers: (window as any).roomcast.pc?.getTransceivers().map((t: RTCRtpTransceiver) => [t.mid, t.direction, t.currentDirection]),
      })),
      foxStats: await foxStats(fox),
      crow: await rtpStats(crow),
      server: [...(s.services.sfu.rooms.get(roomId)?.peers.values() ?? [])].map((p) => ({
        id: p.id,
        pubs: [...p.publications.values()].map((x) => [x.kind, x.ended, x.forwarder?.stats]),
        subs: [...p.subscriptions.values()].map((x) => [x.kind, x.transceiver.mid, x.ended]),
        pc: p.pc?.connectionState,
      })),
    });
  const explain = async (err: Error) => {
    throw new Error(`${err.message}: ${await diagnose()}`);
  };

  // Firefox shows Chromium's camera: a sized picture whose frames and play position advance
  const crowVideo = `#grid .tile[data-peer-id="${crowPeer}"] video`;
  const first = await until('Firefox shows a remote frame', async () => {
    const [v] = await foxVideos(fox, crowVideo);
    return v && v.width > 0 && v.frames > 0 ? v : null;
  }, 60_000).catch(explain);
  await until('Firefox: remote frames advancing', async () => {
    const [v] = await foxVideos(fox, crowVideo);
    return v && v.frames > first.frames + 10 && v.time > first.time;
  }).catch(explain);
  const fs1 = await foxStats(fox);
  assert.ok(fs1.videoFramesDecoded > 0, 'Firefox decodes VP8 from the SFU');
  // and hears Chromium: audio packets keep arriving
  await until('Firefox: remote audio', async () => (await foxStats(fox)).audioPackets > fs1.audioPackets + 20).catch(explain);

  // Chromium shows Firefox's fake camera and hears its fake microphone (a tone: energy above zero)
  const foxVideo = `#grid .tile[data-peer-id="${foxPeer}"] video`;
  const seen = await until('Chromium shows a frame from Firefox', async () => {
    const [v] = await sampleVideos(crow, foxVideo);
    return v && v.width > 0 && v.frames > 0 ? v : null;
  }, 60_000).catch(explain);
  await until('Chromium: frames from Firefox advancing', async () => ((await sampleVideos(crow, foxVideo))[0]?.frames ?? 0) > seen.frames + 10).catch(explain);
  const a1 = await until('Chromium: audio from Firefox', async () => {
    const st = await rtpStats(crow);
    return st.audioPackets > 0 && st.audioEnergy > 0 ? st : null;
  }).catch(explain);
  await until('Chromium: more audio from Firefox', async () => {
    const st = await rtpStats(crow);
    return st.audioPackets > a1.audioPackets + 20 && st.audioEnergy > a1.audioEnergy;
  }).catch(explain);
  assert.match(await crow.locator(`#grid .tile[data-peer-id="${foxPeer}"] .name`).innerText(), /Fox/);
  console.log(`# ${await diagnose()}`);
});

test('Firefox leaves with the Leave button and the room sees it go', async () => {
  await fox.evaluate(() => (document.getElementById('leave') as HTMLButtonElement).click());
  const left = await until("Fox's peer.leave.success", async () =>
    (await s.services.events.list({ type: 'peer.leave.success', roomId })).find((e) => e.data.peer_id === foxPeer),
  );
  assert.equal(left.data.reason, 'client request');
  await until("Fox's tile removed", async () => (await crow.locator(`#grid .tile[data-peer-id="${foxPeer}"]`).count()) === 0);
  assert.equal(await fox.evaluate(() => document.body.dataset.joined), null);
});
