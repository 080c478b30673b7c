// Re-publishing does not grow the SDP (issue 10): a Chromium publisher stops and restarts its camera and its
// screen share 20 times while a Chromium subscriber watches; the server's offers to both keep as many m-lines
// as there are simultaneous tracks, the ended m-lines are taken over, and the subscriber decodes the last ones.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import type { Page } from 'playwright-core';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { launchPeerBrowser, makeMediaFixtures, sampleVideos, until, waitJoined, type MediaFixtures, type PeerBrowser } from '../helpers/meetingPeers.js';
import { createRoomCode } from '../../src/store/roomCodes.js';
import type { Peer } from '../../src/sfu/peer.js';

const CYCLES = 20;
/** audio + camera + screen published by Alice, audio + camera by Bob: each side's offer covers all five */
const SIMULTANEOUS_TRACKS = 5;
/** m-lines allowed beyond the simultaneous tracks (a track added before its predecessor's m-line had a mid) */
const SLACK = 1;
/** how long to wait for each step: the machine running this may be busy */
const WAIT_MS = 60_000;

let s: TestServer;
let media: MediaFixtures;
let browser: PeerBrowser;
let roomId: string;
let alice: Page;
let bob: Page;
let aliceId: string;
let bobId: string;

/**
 * Runs before the page's own scripts: keeps the page's signaling socket reachable (the page has no camera
 * unpublish control, so the test speaks the protocol on its socket) and notes the m-line count of every offer.
 */
function signalingTap(): void {
  const Native = window.WebSocket;
  const w = window as unknown as { __offers: number[]; __signaling: WebSocket; __log: string[] };
  w.__offers = [];
  w.__log = [];
  const NativePc = window.RTCPeerConnection;
  window.RTCPeerConnection = class extends NativePc {
    constructor(config?: RTCConfiguration) {
      super(config);
      this.addEventListener('track', (e) => w.__log.push(`ontrack ${e.transceiver.mid}`));
    }
    override async setRemoteDescription(d: RTCSessionDescriptionInit): Promise<void> {
      w.__log.push('srd start');
      await super.setRemoteDescription(d);
      w.__log.push('srd done');
    }
  } as typeof RTCPeerConnection;
  window.WebSocket = class extends Native {
    constructor(url: string | URL, protocols?: string | string[]) {
      super(url, protocols);
      w.__signaling = this;
      this.addEventListener('message', (e) => {
        const msg = JSON.parse(String(e.data)) as { type: string; sdp?: string; track_id?: string; kind?: string; mids?: Record<string, { track_id: string; active: boolean; kind: string }> };
        if (msg.type.startsWith('track')) w.__log.push(`${msg.type} ${msg.kind} ${msg.track_id?.slice(0, 8)}`);
        if (msg.mids) w.__log.push(`offer ${Object.entries(msg.mids).map(([m, i]) => `${m}:${i.kind}:${i.track_id.slice(0, 8)}:${i.active}`).join(' ')}`);
        if (msg.type === 'offer') w.__offers.push((msg.sdp ?? '').match(/^m=/gm)?.length ?? 0);
      });
    }
  };
}

async function openTappedPage(url: string): Promise<Page> {
  const context = await browser.browser.newContext({ permissions: ['camera', 'microphone'], viewport: { width: 1280, height: 720 } });
  await context.addInitScript(signalingTap);
  const page = await context.newPage();
  await page.goto(url);
  return page;
}

const offers = (page: Page) => page.evaluate(() => (window as unknown as { __offers: number[] }).__offers.slice());
const sendRaw = (page: Page, msg: unknown) => page.evaluate((m) => (window as unknown as { __signaling: WebSocket }).__signaling.send(JSON.stringify(m)), msg);
const transceiverCount = (page: Page) => page.evaluate(() => (window as unknown as { roomcast: { pc: RTCPeerConnection } }).roomcast.pc.getTransceivers().length);

const serverPeer = (id: string): Peer => {
  const peer = s.services.sfu.rooms.get(roomId)?.peers.get(id);
  assert.ok(peer, `peer ${id} in the room`);
  return peer;
};
const livePub = (kind: string) => [...serverPeer(aliceId).publications.values()].find((p) => p.kind === kind && !p.ended);

/** Alice's live camera and screen are forwarded, Bob has a live subscription to each, and every offer is answered. */
async function settled(what: string): Promise<{ camera: string; screen: string }> {
  return until(what, async () => {
    const camera = livePub('camera');
    const screen = livePub('screen');
    if (!camera?.forwarder || !screen?.forwarder) return null;
    const subs = serverPeer(bobId).subscriptions;
    if (subs.get(camera.trackId)?.ended !== false || subs.get(screen.trackId)?.ended !== false) return null;
    for (const page of [alice, bob]) {
      const stable = await page.evaluate(() => (window as unknown as { roomcast: { pc: RTCPeerConnection } }).roomcast.pc.signalingState === 'stable');
      if (!stable) return null;
    }
    return { camera: camera.trackId, screen: screen.trackId };
  }, WAIT_MS).catch(async (err: Error) => {
    throw new Error(`${err.message}: ${await diagnose()}`);
  });
}

async function diagnose(): Promise<string> {
  const view = await bob.evaluate(() => ({
    screens: (window as any).roomcast.screens(),
    log: (window as any).__log,
    transceivers: (window as any).roomcast.pc?.getTransceivers().map((t: RTCRtpTransceiver) => [t.mid, t.direction, t.currentDirection]),
  }));
  const server = [aliceId, bobId].map((id) => {
    const p = s.services.sfu.rooms.get(roomId)?.peers.get(id);
    if (!p) return `${id} gone`;
    return {
      pubs: [...p.publications.values()].map((x) => [x.trackId.slice(0, 8), x.kind, x.transceiver.mid, x.ended, !!x.forwarder]),
      subs: [...p.subscriptions.values()].map((x) => [x.trackId.slice(0, 8), x.kind, x.transceiver.mid, x.ended]),
    };
  });
  return JSON.stringify({ view, server });
}

/** framesDecoded of the subscriber's inbound stream on `mid` */
const framesDecoded = (page: Page, mid: string) =>
  page.evaluate(async (m) => {
    const report = await (window as unknown as { roomcast: { pc: RTCPeerConnection } }).roomcast.pc.getStats();
    let frames = -1;
    report.forEach((r: Record<string, unknown>) => {
      if (r.type === 'inbound-rtp' && r.mid === m) frames = Number(r.framesDecoded ?? 0);
    });
    return frames;
  }, mid);

/** A fresh room with Alice and Bob in it (both publish microphone and camera). */
async function joinPair(name: string): Promise<void> {
  const room = await s.api('POST', '/v2/rooms', { name });
  assert.equal(room.status, 200);
  roomId = room.body.id;
  const code = (await createRoomCode(s.services.store.db, roomId, 'host')).code;
  alice = await openTappedPage(`${s.url}/meeting/${code}?skip_preview_headful=true&name=Alice`);
  bob = await openTappedPage(`${s.url}/meeting/${code}?skip_preview_headful=true&name=Bob`);
  await Promise.all([waitJoined(alice), waitJoined(bob)]);
  aliceId = await alice.evaluate(() => document.body.dataset.peerId ?? '');
  bobId = await bob.evaluate(() => document.body.dataset.peerId ?? '');
}

before(async () => {
  s = await startTestServer();
  media = makeMediaFixtures();
  browser = await launchPeerBrowser(media);
  await joinPair('e2e-republish');
});

after(async () => {
  await browser?.close();
  await s?.stop();
  media?.remove();
});

test(`${CYCLES} camera and screen re-publishes keep the offers' m-lines bounded, and the last tracks are decoded`, async () => {
  await alice.getByRole('button', { name: 'Share screen' }).click();
  const first = await settled('camera and screen forwarded to Bob');
  const midsAtStart = new Set([...serverPeer(bobId).subscriptions.values()].map((sub) => sub.transceiver.mid));
  const before = { alice: Math.max(...(await offers(alice))), bob: Math.max(...(await offers(bob))) };
  assert.equal(before.alice, SIMULTANEOUS_TRACKS);
  assert.equal(before.bob, SIMULTANEOUS_TRACKS);
  const cameraCid = livePub('camera')!.cid;

  let current = first;
  const startedAt = Date.now();
  for (let cycle = 0; cycle < CYCLES; cycle++) {
    await sendRaw(alice, { type: 'unpublish', track_id: current.camera });
    await alice.getByRole('button', { name: 'Stop sharing' }).click();
    // every other cycle the tracks come back only once Bob has seen them go; otherwise at once, so the new
    // tracks take over m-lines whose "inactive" offer is still out
    if (cycle % 2 === 1) {
      await until('screen tile gone at Bob', async () => (await bob.locator('#stage .tile').count()) === 0, WAIT_MS).catch(async (err: Error) => {
        throw new Error(`${err.message}: ${await diagnose()}`);
      });
    }
    await sendRaw(alice, { type: 'publish', tracks: [{ cid: cameraCid, kind: 'camera' }] });
    await alice.getByRole('button', { name: 'Share screen' }).click();
    const next = await settled(`cycle ${cycle + 1}: new camera and screen forwarded to Bob`);
    assert.notEqual(next.camera, current.camera);
    assert.notEqual(next.screen, current.screen);
    current = next;
  }

  const aliceOffers = await offers(alice);
  const bobOffers = await offers(bob);
  const after = { alice: Math.max(...aliceOffers), bob: Math.max(...bobOffers) };
  const chromeTransceivers = { alice: await transceiverCount(alice), bob: await transceiverCount(bob) };
  console.log(`# m-lines per offer before ${JSON.stringify(before)}, largest over ${CYCLES} cycles ${JSON.stringify(after)}; offers ${aliceOffers.length}/${bobOffers.length}; Chrome transceivers ${JSON.stringify(chromeTransceivers)}; ${Math.round((Date.now() - startedAt) / 1000)} s`);
  assert.ok(after.alice <= SIMULTANEOUS_TRACKS + SLACK, `offers to the publisher grew to ${after.alice} m-lines`);
  assert.ok(after.bob <= SIMULTANEOUS_TRACKS + SLACK, `offers to the subscriber grew to ${after.bob} m-lines`);
  assert.ok(chromeTransceivers.alice <= SIMULTANEOUS_TRACKS + SLACK && chromeTransceivers.bob <= SIMULTANEOUS_TRACKS + SLACK);
  // the server keeps no more than that either: ended publications and subscriptions were taken over
  assert.ok(serverPeer(aliceId).publications.size <= 3 + SLACK);
  assert.ok(serverPeer(bobId).subscriptions.size <= 3 + SLACK);

  // the last camera and screen ride on m-lines that existed before the cycles, and Bob decodes them
  const bobSubs = serverPeer(bobId).subscriptions;
  for (const [kind, trackId] of [
    ['camera', current.camera],
    ['screen', current.screen],
  ] as const) {
    const mid = bobSubs.get(trackId)?.transceiver.mid;
    assert.ok(mid && midsAtStart.has(mid), `${kind} reuses one of the first m-lines (${mid} in ${[...midsAtStart].join(',')})`);
    const start = await framesDecoded(bob, mid);
    assert.ok(start >= 0, `Bob has an inbound stream on mid ${mid}`);
    await until(`Bob decodes the last ${kind}`, async () => (await framesDecoded(bob, mid)) >= start + 20, WAIT_MS);
    const forwarder = livePub(kind)?.forwarder;
    assert.ok(forwarder && forwarder.subscriberIds.includes(bobId) && forwarder.stats.packets > 0);
  }
  // and shows them: Alice's camera in her tile, her screen on the stage, both advancing
  for (const sel of [`#grid .tile[data-peer-id="${aliceId}"] video`, '#stage .tile.screen video']) {
    const [v0] = await sampleVideos(bob, sel);
    assert.ok(v0, `${sel} present`);
    await until(`${sel} advancing`, async () => {
      const [v] = await sampleVideos(bob, sel);
      return v && v.width > 0 && v.frames > v0.frames + 10;
    }, WAIT_MS);
  }
  assert.equal(await bob.locator('#stage .tile.screen').count(), 1);
});

test('a track of another kind does not take over an ended m-line', async () => {
  await alice.context().close();
  await bob.context().close();
  await joinPair('e2e-republish-kinds');
  // Bob stops sending his microphone: its m-line is answered inactive
  const bobAudio = await until("Bob's microphone forwarded", () => [...serverPeer(bobId).publications.values()].find((p) => p.kind === 'audio' && p.forwarder));
  await until("Bob receives Alice's camera", () => [...serverPeer(bobId).subscriptions.values()].some((sub) => sub.kind === 'camera'));
  await sendRaw(bob, { type: 'unpublish', track_id: bobAudio.trackId });
  await until('the inactive m-line negotiated', () => bobAudio.transceiver.currentDirection === 'inactive', WAIT_MS);
  // the first screen share needs a new video m-line at Bob: it must not be the audio one
  await alice.getByRole('button', { name: 'Share screen' }).click();
  const screen = await until("Bob decodes Alice's screen", async () => {
    const [v] = await sampleVideos(bob, '#stage .tile.screen video');
    return v && v.width > 0 && v.frames > 0 ? v : null;
  }, WAIT_MS).catch(async (err: Error) => {
    throw new Error(`${err.message}: ${await diagnose()}`);
  });
  assert.ok(screen.frames > 0);
  // every m-line the server tracks is still one of its connection's, with its own kind
  const bobPeer = serverPeer(bobId);
  const inPc = new Set(bobPeer.pc?.getTransceivers());
  for (const x of [...bobPeer.publications.values(), ...bobPeer.subscriptions.values()]) {
    assert.ok(inPc.has(x.transceiver), `${x.kind} ${x.trackId} still on the connection`);
    assert.equal(x.transceiver.kind, x.kind === 'audio' ? 'audio' : 'video');
  }
  // and Bob can publish his microphone again on its old m-line
  const cid = bobAudio.cid;
  await sendRaw(bob, { type: 'publish', tracks: [{ cid, kind: 'audio' }] });
  const again = await until("Bob's microphone forwarded again", () => [...serverPeer(bobId).publications.values()].find((p) => p.kind === 'audio' && !p.ended && p.forwarder), WAIT_MS);
  assert.equal(again.transceiver, bobAudio.transceiver);
  await until("Bob's new microphone forwarded to Alice", () => again.forwarder!.stats.packets > 20, WAIT_MS);
});
