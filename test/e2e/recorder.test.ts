// The recorder's process layer for real: Xvfb + PulseAudio + headful Chromium + one ffmpeg, recording a local
// animated page with a tone, checked by decoding what was written.
import { test, before, after, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, readdirSync, rmSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createLogger } from '../../src/logger.js';
import { startDisplay, type RecorderDisplay } from '../../src/recorder/display.js';
import { launchRecorderBrowser, isAllowedUrl, HostNotAllowedError, type RecorderBrowser, type BrowserExit } from '../../src/recorder/browser.js';
import { startEncoder, type Encoder, type EncoderExit } from '../../src/recorder/encoder.js';
import { probe, sampleFrames, audioLevel, frameDifference, regionColour } from '../../src/recorder/probe.js';
import { liveProcesses, statFields } from '../../src/recorder/proc.js';
import { startMediaPageServer, type MediaPageServer, BAND_HEIGHT } from '../helpers/mediaPage.js';

const logger = createLogger(process.env.TEST_LOG_LEVEL ?? 'silent');
const size = { width: 1280, height: 720 };
const JOINED = { js: 'window.__roomcast?.joined === true' };
let pages: MediaPageServer;
let dir: string;
/** every PID (= process group) a test started; afterEach proves each group is gone */
let groups: number[] = [];

before(async () => {
  pages = await startMediaPageServer();
  dir = mkdtempSync(join(tmpdir(), 'roomcast-recorder-test-'));
});
after(async () => {
  await pages.close();
  rmSync(dir, { recursive: true, force: true });
});

/** Processes (not zombies) still in a process group; chromium's helpers are in their leader's group. */
function groupMembers(pgid: number): number[] {
  return readdirSync('/proc')
    .filter((e) => /^\d+$/.test(e))
    .map(Number)
    .filter((pid) => {
      const f = statFields(pid);
      return f !== null && f[0] !== 'Z' && Number(f[2]) === pgid;
    });
}

afterEach(async () => {
  assert.deepEqual(liveProcesses(), [], 'a wrapper still tracks a live process');
  // a SIGKILLed process can take a moment to disappear from /proc
  const deadline = Date.now() + 10_000;
  let left: number[] = [];
  do {
    left = groups.flatMap(groupMembers);
    if (left.length === 0) break;
    await new Promise((r) => setTimeout(r, 100));
  } while (Date.now() < deadline);
  assert.deepEqual(left, [], `processes left behind in groups ${groups.join(',')}`);
  groups = [];
});

/** Display + browser on the test page, joined. */
async function startStage(url = pages.url('/')): Promise<{ display: RecorderDisplay; browser: RecorderBrowser }> {
  const display = await startDisplay({ ...size, logger });
  groups.push(display.pids.xvfb, display.pids.pulse);
  try {
    const browser = await launchRecorderBrowser({ url, display, size, allowedHosts: [pages.host], logger });
    groups.push(browser.pid);
    return { display, browser };
  } catch (err) {
    await display.stop();
    throw err;
  }
}

function record(display: RecorderDisplay, output: Parameters<typeof startEncoder>[0]['output'], onExit?: (e: EncoderExit) => void): Encoder {
  const enc = startEncoder({
    display: display.display,
    size,
    audioSource: display.monitorSource,
    pulseServer: display.pulseServer,
    output,
    logger,
    onExit,
  });
  groups.push(enc.pid);
  return enc;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

test('allowed hosts: exact host:port, bare host = the default port, page-internal schemes pass', () => {
  const allowed = ['127.0.0.1:8080', 'meet.example.com'];
  assert.equal(isAllowedUrl('http://127.0.0.1:8080/meeting/x', allowed), true);
  assert.equal(isAllowedUrl('ws://127.0.0.1:8080/ws', allowed), true);
  assert.equal(isAllowedUrl('http://127.0.0.1:8081/', allowed), false);
  assert.equal(isAllowedUrl('http://127.0.0.1/', allowed), false);
  assert.equal(isAllowedUrl('https://MEET.example.com/a', allowed), true);
  assert.equal(isAllowedUrl('https://meet.example.com:8443/a', allowed), false);
  assert.equal(isAllowedUrl('https://evil.example.com/', allowed), false);
  assert.equal(isAllowedUrl('https://meet.example.com.evil.net/', allowed), false);
  assert.equal(isAllowedUrl('file:///etc/passwd', allowed), false);
  assert.equal(isAllowedUrl('data:text/html,hi', allowed), true);
  assert.equal(isAllowedUrl('not a url', allowed), false);
  assert.equal(isAllowedUrl('http://localhost:80/', ['localhost:80']), true);
  // config may hold URLs rather than hosts
  assert.equal(isAllowedUrl('https://meet.example.com/x', ['https://meet.example.com:443/']), true);
  assert.equal(isAllowedUrl('https://meet.example.com:8443/x', ['https://meet.example.com:443/']), false);
  assert.equal(isAllowedUrl('http://127.0.0.1:8080/a', ['http://127.0.0.1:8080']), true);
  assert.throws(() => isAllowedUrl('http://x/', ['not a host']));
});

test('records the page 1280x720 h264 + aac into a fragmented MP4: moving, coloured, audible, no browser UI', async () => {
  const { display, browser } = await startStage();
  let enc: Encoder | undefined;
  const file = join(dir, 'full.mp4');
  try {
    assert.deepEqual(browser.viewport, size, 'the page viewport is exactly the captured area');
    await browser.waitForSignal(JOINED, 30_000);
    enc = record(display, { kind: 'mp4', path: file });
    await enc.firstFrame;
    const t0 = Date.now();
    await sleep(6000);
    const wallSeconds = (Date.now() - t0) / 1000;
    const exit = await enc.stop();
    assert.equal(exit.graceful, true, exit.stderrTail);
    assert.equal(exit.code, 0);

    const info = await probe(file);
    const video = info.streams.find((s) => s.type === 'video');
    const audio = info.streams.find((s) => s.type === 'audio');
    assert.equal(video?.codec, 'h264');
    assert.equal(video?.width, 1280);
    assert.equal(video?.height, 720);
    assert.equal(audio?.codec, 'aac');
    assert.ok(Math.abs(info.duration - wallSeconds) < 1, `duration ${info.duration}s vs ${wallSeconds}s recorded`);

    const frames = await sampleFrames(file, 4, { pixFmt: 'rgb24', width: 320, height: 180 });
    assert.equal(frames.length, 4);
    for (const f of frames) {
      assert.ok(f.meanLuma > 30, `frame at ${f.at}s is dark (mean luma ${f.meanLuma})`);
      assert.ok(f.variance > 50, `frame at ${f.at}s is flat (variance ${f.variance})`);
      // the page's magenta band is the first rows: no tab strip, address bar or infobar above it
      const [r, g, b] = regionColour(f, 0, 0, 320, Math.floor((BAND_HEIGHT * 180) / 720) - 2);
      assert.ok(r > 200 && g < 60 && b > 200, `top rows are rgb(${r},${g},${b}), not the page's magenta`);
    }
    for (let i = 1; i < frames.length; i++) {
      assert.ok(frameDifference(frames[i - 1], frames[i]) > 2, `frames ${i - 1} and ${i} are identical: no motion`);
    }
    // the rightmost column and bottom row belong to the page too (no black border)
    const [full] = await sampleFrames(file, 1, { pixFmt: 'rgb24', width: 1280, height: 720 });
    const right = regionColour(full, 1279, BAND_HEIGHT, 1, 720 - BAND_HEIGHT);
    const bottom = regionColour(full, 0, 719, 1280, 1);
    assert.ok(Math.max(...right) > 60 && Math.max(...bottom) > 60, `black edge: right ${right}, bottom ${bottom}`);

    const level = await audioLevel(file);
    assert.ok(level.maxDb > -40, `audio is silent (max ${level.maxDb} dB)`);
    assert.ok(level.meanDb > -50, `audio is silent (mean ${level.meanDb} dB)`);
  } finally {
    await enc?.stop();
    await browser.stop();
    await display.stop();
  }
  assert.equal(existsSync(`/tmp/.X${display.displayNumber}-lock`), false, 'Xvfb lock file removed');
});

test('an encoder that fell behind real time is drained to the stop instant: its queued seconds are not dropped', async () => {
  const { display, browser } = await startStage();
  const file = join(dir, 'behind.mp4');
  let enc: Encoder | undefined;
  try {
    await browser.waitForSignal(JOINED, 30_000);
    // x264 'veryslow' cannot keep up with 720p30 here: the grabbed frames queue up in front of the encoder
    enc = startEncoder({ display: display.display, size, audioSource: display.monitorSource, pulseServer: display.pulseServer, preset: 'veryslow', output: { kind: 'mp4', path: file }, logger });
    groups.push(enc.pid);
    await enc.firstFrame;
    const t0 = Date.now();
    await sleep(3000);
    const wallSeconds = (Date.now() - t0) / 1000;
    const behindMs = wallSeconds * 1000 - enc.progress().outTimeMs;
    assert.ok(behindMs > 1000, `the encoder is behind real time when the stop comes (${behindMs} ms)`);
    const exit = await enc.stop({ drainTimeoutMs: 120_000, quitTimeoutMs: 120_000 });
    assert.equal(exit.graceful, true, exit.stderrTail);
    const info = await probe(file);
    console.log(`# behind by ${Math.round(behindMs)} ms at the stop; file ${info.duration.toFixed(2)} s for ${wallSeconds.toFixed(2)} s`);
    assert.ok(info.duration >= wallSeconds - 0.3, `duration ${info.duration}s for ${wallSeconds}s recorded: the queued tail was dropped`);
    // beyond the stop only what the encoder already held: veryslow looks 60 frames (2 s) ahead
    assert.ok(info.duration <= wallSeconds + 3, `duration ${info.duration}s for ${wallSeconds}s recorded: it ran on past the stop`);
  } finally {
    await enc?.stop();
    await browser.stop();
    await display.stop();
  }
});

test('ffmpeg SIGKILLed mid-recording leaves a playable file and reports the exit', async () => {
  const { display, browser } = await startStage();
  let enc: Encoder | undefined;
  const file = join(dir, 'killed.mp4');
  try {
    await browser.waitForSignal({ selector: 'body[data-joined="true"]' }, 30_000);
    let unexpected: EncoderExit | null = null;
    const exited = new Promise<void>((resolve) => {
      enc = record(display, { kind: 'mp4', path: file }, (e) => {
        unexpected = e;
        resolve();
      });
    });
    await enc!.firstFrame;
    await sleep(5000); // > two 2 s fragments
    process.kill(enc!.pid, 'SIGKILL');
    await exited;
    assert.equal((unexpected as EncoderExit | null)?.signal, 'SIGKILL');

    const info = await probe(file);
    assert.ok(info.duration > 1, `partial file duration ${info.duration}`);
    assert.equal(info.streams.find((s) => s.type === 'video')?.codec, 'h264');
    const frames = await sampleFrames(file, 2);
    assert.equal(frames.length, 2, 'frames decode from the partial file');
    for (const f of frames) assert.ok(f.meanLuma > 30 && f.variance > 50, `partial frame at ${f.at}s is black`);
    // stop() after the crash is harmless and reports the same exit
    const again = await enc!.stop();
    assert.equal(again.signal, 'SIGKILL');
    assert.equal(again.graceful, false);
  } finally {
    await enc?.stop();
    await browser.stop();
    await display.stop();
  }
});

test('recorder refuses a start URL outside the allowed hosts and blocks sub-requests to other hosts', async () => {
  const display = await startDisplay({ ...size, logger });
  groups.push(display.pids.xvfb, display.pids.pulse);
  let browser: RecorderBrowser | undefined;
  try {
    for (const url of ['http://example.com/', pages.other.url('/'), 'file:///etc/passwd', 'chrome://settings']) {
      await assert.rejects(launchRecorderBrowser({ url, display, size, allowedHosts: [pages.host], logger }), HostNotAllowedError, url);
    }
    assert.deepEqual(
      liveProcesses().map((p) => p.name).sort(),
      ['pulseaudio', 'xvfb'],
      'no browser was started for a refused URL',
    );

    const target = pages.other.url('');
    browser = await launchRecorderBrowser({ url: pages.url(`/reach?target=${encodeURIComponent(target)}`), display, size, allowedHosts: [pages.host], logger });
    groups.push(browser.pid);
    await browser.waitForSignal({ js: "document.body.dataset.done === 'true'" }, 30_000);
    const results = JSON.parse((await browser.page.evaluate(() => document.body.dataset.results)) ?? '{}');
    assert.equal(results.fetch, 'error');
    assert.equal(results.img, 'error');
    assert.notEqual(results.ws, 'open');
    assert.deepEqual(pages.other.hits, [], 'the other host was never reached');
    assert.ok(browser.blocked.some((u) => u.startsWith(`${target}/fetch`)), JSON.stringify(browser.blocked));
    assert.ok(browser.blocked.some((u) => u.startsWith(`${target}/img.png`)));
    assert.ok(browser.blocked.some((u) => u.startsWith(`ws://${pages.other.host}/ws`)));

    assert.equal(results.ownWs, 'echo:ping', 'a WebSocket to the allowed host still works');

    // a navigation away from the allowed host is blocked as well
    await assert.rejects(browser.page.goto(pages.other.url('/elsewhere')));
    assert.deepEqual(pages.other.hits, []);

    // crashes are reported: the browser, then the display's X server, killed behind the wrappers' backs
    const browserDied = new Promise<BrowserExit>((resolve) => browser!.onExit(resolve));
    process.kill(browser.pid, 'SIGKILL');
    const died = await browserDied;
    assert.equal(died.reason, 'exited');
    assert.equal(died.signal, 'SIGKILL');
    const displayDied = new Promise<string>((resolve) => display.onExit((which) => resolve(which)));
    process.kill(display.pids.xvfb, 'SIGKILL');
    assert.equal(await displayDied, 'xvfb');
  } finally {
    await browser?.stop();
    await display.stop();
  }
});

test('HLS ladder: one ffmpeg, 720/480/360 renditions, master playlist, 2 s segments', async () => {
  const { display, browser } = await startStage();
  let enc: Encoder | undefined;
  const out = join(dir, 'hls');
  try {
    await browser.waitForSignal(JOINED, 30_000);
    enc = record(display, {
      kind: 'hls',
      dir: out,
      playlist: 'event',
      layers: [
        { name: '720p', width: 1280, height: 720, videoBitrateKbps: 2500 },
        { name: '480p', width: 854, height: 480, videoBitrateKbps: 1200 },
        { name: '360p', width: 640, height: 360, videoBitrateKbps: 700 },
      ],
    });
    await enc.firstFrame;
    await sleep(7000);
    const exit = await enc.stop();
    assert.equal(exit.graceful, true, exit.stderrTail);

    const master = readFileSync(join(out, 'master.m3u8'), 'utf8');
    const variants = master.split('\n').filter((l) => l.startsWith('#EXT-X-STREAM-INF'));
    assert.equal(variants.length, 3, master);
    for (const res of ['1280x720', '854x480', '640x360']) assert.ok(variants.some((v) => v.includes(`RESOLUTION=${res}`)), master);
    for (const [name, w, h] of [['720p', 1280, 720], ['480p', 854, 480], ['360p', 640, 360]] as const) {
      assert.ok(master.includes(`${name}/index.m3u8`), master);
      const playlist = readFileSync(join(out, name, 'index.m3u8'), 'utf8');
      assert.match(playlist, /#EXT-X-PLAYLIST-TYPE:EVENT/);
      assert.match(playlist, /#EXT-X-ENDLIST/);
      const durations = [...playlist.matchAll(/#EXTINF:([\d.]+)/g)].map((m) => Number(m[1]));
      assert.ok(durations.length >= 3, playlist);
      // every segment but the last is one 2 s GOP
      for (const d of durations.slice(0, -1)) assert.ok(Math.abs(d - 2) < 0.15, `segment of ${d}s in ${name}\n${playlist}`);
      const firstSegment = playlist.split('\n').find((l) => l.endsWith('.ts'));
      const seg = await probe(join(out, name, firstSegment!));
      const v = seg.streams.find((s) => s.type === 'video');
      assert.equal(v?.codec, 'h264');
      assert.equal(v?.width, w);
      assert.equal(v?.height, h);
      assert.equal(seg.streams.find((s) => s.type === 'audio')?.codec, 'aac');
    }
  } finally {
    await enc?.stop();
    await browser.stop();
    await display.stop();
  }
});
