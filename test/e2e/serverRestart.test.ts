// Issue 13, "server SIGKILL 10 s in, restart 5 s later", with real peers: two Chromium pages in a room that is
// being recorded lose their server for 5 s. The next server takes the recording over and keeps it up to the
// moment the server died (no frozen picture of the outage at its end); the pages reconnect on their own, join
// again with their tokens, see each other's video again, and the session they were in goes on (SESSION_RESUME_SECONDS).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { probe } from '../../src/recorder/probe.js';
import { launchPeerBrowser, makeMediaFixtures, openPeerPage, sampleVideos, sleep, until, waitJoined, type PeerBrowser } from '../helpers/meetingPeers.js';
import { serverProcesses } from '../helpers/serverProcess.js';
import { frozenTailSeconds } from '../helpers/frozenTail.js';

const RECORD_SECONDS = 10;
const OUTAGE_SECONDS = 5;

const peerIdOf = (page: Page) => page.evaluate(() => document.body.dataset.peerId ?? '');

/** What a page shows, for failure messages. */
function pageState(page: Page): Promise<unknown> {
  return page.evaluate(() => ({
    ...document.body.dataset,
    tiles: (window as any).roomcast.tiles(),
    videos: [...document.querySelectorAll('video')].map((v) => [v.closest('[data-peer-id]')?.getAttribute('data-peer-id'), v.videoWidth, v.getVideoPlaybackQuality().totalVideoFrames]),
  }));
}

/** The other peer's video in `page` shows frames and keeps decoding new ones. */
async function seesVideoOf(page: Page, otherPeerId: string, timeoutMs: number): Promise<void> {
  const sel = `#grid .tile[data-peer-id="${otherPeerId}"] video`;
  try {
    const first = await until(`a frame of ${otherPeerId}`, async () => {
      const [v] = await sampleVideos(page, sel);
      return v && v.width > 0 && v.frames > 0 ? v : null;
    }, timeoutMs, 250);
    await until(`more frames of ${otherPeerId}`, async () => ((await sampleVideos(page, sel))[0]?.frames ?? 0) > first.frames + 10, timeoutMs, 250);
  } catch (err) {
    throw new Error(`${(err as Error).message}: ${JSON.stringify(await pageState(page))}`);
  }
}

test('a server SIGKILLed mid-recording and restarted: the asset ends where it died, the pages come back', async () => {
  const sp = await serverProcesses({ RECORDER_WORKERS: '1', RECORDER_TAKEOVER_SECONDS: '10' });
  const media = makeMediaFixtures();
  const browsers: PeerBrowser[] = [];
  try {
    const first = await sp.start();
    const roomId = (await sp.api('POST', '/v2/rooms', { name: 'restart-room' })).body.id;
    browsers.push(await launchPeerBrowser(media), await launchPeerBrowser(media));
    const pages = await Promise.all(
      ['Alice', 'Bob'].map(async (name, i) => {
        const token = await sp.appToken(roomId, 'host', name.toLowerCase());
        return openPeerPage(browsers[i], `${sp.base}/preview/${roomId}/host?auth_token=${token}&skip_preview_headful=true&name=${name}`);
      }),
    );
    await Promise.all(pages.map((p) => waitJoined(p)));
    const before = await Promise.all(pages.map(peerIdOf));
    await seesVideoOf(pages[0], before[1], 30_000);
    await seesVideoOf(pages[1], before[0], 30_000);

    const sessionBefore = (await sp.api('GET', `/v2/active-rooms/${roomId}`)).body.session_id;
    assert.ok(sessionBefore);
    const start = await sp.api('POST', `/v2/recordings/room/${roomId}/start`, {});
    assert.equal(start.status, 200, JSON.stringify(start.body));
    const id = start.body.id;
    const running = await until('running', async () => {
      const r = (await sp.api('GET', `/v2/recordings/${id}`)).body;
      return r.status === 'running' ? r : null;
    }, 90_000, 300);
    await sleep(RECORD_SECONDS * 1000);
    const killedAt = Date.now();
    await sp.kill(first);
    await sleep(OUTAGE_SECONDS * 1000);
    await sp.start();

    // (2) the pages join again by themselves (new peer ids) and each plays the other's video again
    const after = await until('both pages joined again', async () => {
      const ids = await Promise.all(pages.map(async (p) => ((await p.evaluate(() => document.body.dataset.joined)) === 'true' ? peerIdOf(p) : '')));
      return ids.every((x, i) => x && x !== before[i]) ? ids : null;
    }, 60_000, 250);
    await seesVideoOf(pages[0], after[1], 60_000);
    await seesVideoOf(pages[1], after[0], 60_000);
    const active = await until('the active room to list both again', async () => {
      const r = await sp.api('GET', `/v2/active-rooms/${roomId}`);
      return r.status === 200 && after.every((p) => p in r.body.peers) ? r.body : null;
    }, 30_000, 250);
    assert.equal(Object.keys(active.peers).length, 2);
    // (3) the session goes on: the pages joined the one the server had open when it died
    assert.equal(active.session_id, sessionBefore, 'the session continues after the restart');
    const session = (await sp.api('GET', `/v2/sessions/${sessionBefore}`)).body;
    assert.equal(session.active, true);

    // (1) the recording was taken over and ends where the server died
    const done = await until('the recording to be taken over and closed', async () => {
      const r = (await sp.api('GET', `/v2/recordings/${id}`)).body;
      return r.status === 'failed' || r.status === 'completed' ? r : null;
    }, 90_000, 500);
    assert.equal(done.recording_assets?.length, 1, JSON.stringify(done));
    const file = join(sp.dir, 'assets', done.recording_assets[0].path.replace('local://roomcast/', ''));
    const { duration } = await probe(file);
    const beforeKill = (killedAt - Date.parse(running.started_at)) / 1000;
    const frozen = await frozenTailSeconds(file);
    console.log(`[serverRestart] asset ${duration.toFixed(2)} s, captured before the kill ${beforeKill.toFixed(2)} s, frozen tail ${frozen.toFixed(2)} s`);
    assert.ok(Math.abs(duration - beforeKill) <= 3, `asset ${duration} s, ${beforeKill} s were captured before the kill`);
    assert.ok(frozen <= 1, `the last ${frozen} s are a frozen picture`);
  } finally {
    for (const b of browsers) await b.close();
    await sp.close();
    media.remove();
  }
});
