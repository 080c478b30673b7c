// Real peers in a real room: two headless Chromium processes (fake camera/mic from files made here) join
// through the meeting URL, see and hear each other through the SFU, share a screen; a hidden recorder joins
// unseen; bad tokens are refused; a SIGKILLed browser leaves within seconds; the session closes at the end.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import WebSocket from 'ws';
import type { Page } from 'playwright-core';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { launchPeerBrowser, makeMediaFixtures, openPeerPage, rtpStats, sampleVideos, sleep, until, waitJoined, type MediaFixtures, type PeerBrowser } from '../helpers/meetingPeers.js';
import { createRoomCode } from '../../src/store/roomCodes.js';
import { RECORDER_ROLE } from '../../src/model/templates.js';
import { recorderJoinUrl } from '../../src/domain/recorderAccess.js';
import type { DomainEvent } from '../../src/domain/events.js';

const PEER_TIMEOUT_SECONDS = 4;

let s: TestServer;
let media: MediaFixtures;
let browserA: PeerBrowser;
let browserB: PeerBrowser;
let roomId: string;
let code: string;
let alice: Page;
let bob: Page;
let recorder: Page;
let alicePeer: string;
let bobPeer: string;

/** what a page shows and receives, for failure messages */
async function diagnose(page: Page): Promise<string> {
  const view = await page.evaluate(() => ({
    peer: document.body.dataset.peerId,
    connection: document.body.dataset.connection,
    tiles: (window as any).roomcast.tiles(),
    transceivers: (window as any).roomcast.pc?.getTransceivers().map((t: RTCRtpTransceiver) => [t.mid, t.direction, t.currentDirection, t.receiver.track.muted]),
    videos: [...document.querySelectorAll('video')].map((v) => [v.closest('[data-peer-id]')?.getAttribute('data-peer-id'), v.videoWidth, v.getVideoPlaybackQuality().totalVideoFrames, !!v.srcObject]),
  }));
  const server = [...(s.services.sfu.rooms.get(roomId)?.peers.values() ?? [])].map((p) => ({
    id: p.id,
    pubs: [...p.publications.values()].map((x) => [x.kind, x.ended, x.forwarder?.stats]),
    subs: [...p.subscriptions.values()].map((x) => [x.kind, x.transceiver.mid, x.ended]),
    pc: p.pc?.connectionState,
  }));
  return JSON.stringify({ view, stats: await rtpStats(page), server });
}

const events = async (type: string): Promise<DomainEvent[]> => (await s.services.events.list({ type, roomId })).filter((e) => e.room_id === roomId);

before(async () => {
  s = await startTestServer({ PEER_TIMEOUT_SECONDS: String(PEER_TIMEOUT_SECONDS) });
  media = makeMediaFixtures();
  const room = await s.api('POST', '/v2/rooms', { name: 'e2e-meeting' });
  assert.equal(room.status, 200);
  roomId = room.body.id;
  code = (await createRoomCode(s.services.store.db, roomId, 'host')).code;
  [browserA, browserB] = await Promise.all([launchPeerBrowser(media), launchPeerBrowser(media)]);
});

after(async () => {
  await browserA?.close();
  await browserB?.close();
  await s?.stop();
  media?.remove();
});

test('two peers join through the meeting URL, and each sees and hears the other', async () => {
  // Alice goes through the preview: camera check, name field, Join button
  alice = await openPeerPage(browserA, `${s.url}/meeting/${code}`);
  const nameField = alice.getByLabel('Your name');
  await nameField.waitFor({ timeout: 30_000 });
  await alice.locator('#preview-video').evaluate((v: HTMLVideoElement) => new Promise((r) => (v.readyState >= 2 ? r(null) : v.addEventListener('loadeddata', () => r(null), { once: true }))));
  await nameField.fill('Alice');
  await alice.getByRole('button', { name: 'Join' }).click();
  // Bob goes straight in, header and controls shown
  bob = await openPeerPage(browserB, `${s.url}/meeting/${code}?skip_preview_headful=true&name=Bob`);
  await Promise.all([waitJoined(alice), waitJoined(bob)]);
  alicePeer = await alice.evaluate(() => document.body.dataset.peerId ?? '');
  bobPeer = await bob.evaluate(() => document.body.dataset.peerId ?? '');
  assert.match(alicePeer, /^[0-9a-f-]{36}$/);
  assert.notEqual(alicePeer, bobPeer);
  assert.equal(await bob.locator('#controls').isVisible(), true);
  assert.equal(await bob.locator('#header').isVisible(), true);

  for (const [page, other] of [
    [alice, bobPeer],
    [bob, alicePeer],
  ] as const) {
    const sel = `#grid .tile[data-peer-id="${other}"] video`;
    const first = await until('a decoded remote frame', async () => {
      const [v] = await sampleVideos(page, sel);
      return v && v.width > 0 && v.frames > 0 ? v : null;
    }).catch(async (err: Error) => {
      throw new Error(`${err.message}: ${await diagnose(page)}`);
    });
    // frames keep advancing: live video, not one frozen picture
    await until('more remote frames', async () => ((await sampleVideos(page, sel))[0]?.frames ?? 0) > first.frames + 10);
    const a1 = await until('remote audio', async () => {
      const st = await rtpStats(page);
      return st.audioPackets > 0 && st.audioEnergy > 0 ? st : null;
    });
    await until('more remote audio', async () => {
      const st = await rtpStats(page);
      return st.audioPackets > a1.audioPackets + 20 && st.audioEnergy > a1.audioEnergy;
    });
  }
  // names on tiles; the 440 Hz tone makes both "speaking"
  assert.match(await alice.locator(`#grid .tile[data-peer-id="${bobPeer}"] .name`).innerText(), /Bob/);
  await until('speaking indicator', () => bob.locator(`#grid .tile[data-peer-id="${alicePeer}"].speaking`).count());

  const joins = await events('peer.join.success');
  assert.equal(joins.length, 2);
  const aliceJoin = joins.find((e) => e.data.peer_id === alicePeer);
  assert.ok(aliceJoin);
  for (const field of ['room_id', 'room_name', 'session_id', 'peer_id', 'user_id', 'template_id', 'user_name', 'user_data', 'role', 'joined_at', 'session_started_at', 'type']) {
    assert.ok(field in aliceJoin.data, `peer.join.success has ${field}`);
  }
  assert.equal(aliceJoin.data.user_name, 'Alice');
  assert.equal(aliceJoin.data.role, 'host');
  assert.equal(aliceJoin.data.type, 'regular');
  const opened = await events('session.open.success');
  assert.equal(opened.length, 1);
  assert.equal(aliceJoin.data.session_id, opened[0].data.session_id);

  const active = await s.api('GET', `/v2/active-rooms/${roomId}`);
  assert.equal(active.status, 200);
  assert.equal(active.body.session_id, opened[0].data.session_id);
  assert.deepEqual(Object.keys(active.body.peers).sort(), [alicePeer, bobPeer].sort());
  assert.equal(active.body.peers[bobPeer].name, 'Bob');
});

test('a screen share reaches the other peer as a large screen tile', async () => {
  await alice.getByRole('button', { name: 'Share screen' }).click();
  const sel = '#stage .tile.screen video';
  const first = await until('a decoded screen frame on the other side', async () => {
    const [v] = await sampleVideos(bob, sel);
    return v && v.width > 0 && v.frames > 0 ? v : null;
  });
  await until('screen frames advancing', async () => ((await sampleVideos(bob, sel))[0]?.frames ?? 0) > first.frames + 5);
  assert.equal(await bob.locator('#room').evaluate((el) => el.classList.contains('has-screen')), true);
  // the stage is the large area: wider than any participant tile
  const stage = await bob.locator('#stage').boundingBox();
  const tile = await bob.locator(`#grid .tile[data-peer-id="${alicePeer}"]`).boundingBox();
  assert.ok(stage && tile && stage.width > tile.width * 2, 'screen share shown large');
  // stop sharing: the tile goes away on the other side
  await alice.getByRole('button', { name: 'Stop sharing' }).click();
  await until('screen tile removed', async () => (await bob.locator('#stage .tile').count()) === 0);
});

test('the hidden recorder receives everyone, is never announced, and keeps asking for keyframes', async () => {
  // the token the server mints for a recording job (no worker here: the job stays starting); a hand-made
  // recorder-role token is refused (test/sfu/recorderAccess.test.ts)
  const job = await s.api('POST', `/v2/recordings/room/${roomId}/start`, {});
  assert.equal(job.status, 200, JSON.stringify(job.body));
  const url = await recorderJoinUrl(s.config, { id: job.body.id, kind: 'recording', roomId, meetingUrl: `${s.url}/preview/${roomId}/${RECORDER_ROLE}?skip_preview=true&ui_mode=activespeaker` });
  recorder = await openPeerPage(browserA, url);
  await waitJoined(recorder);
  // clean full-window layout: no header, no controls, no scrollbars
  assert.equal(await recorder.locator('#header').isVisible(), false);
  assert.equal(await recorder.locator('#controls').isVisible(), false);
  const overflow = await recorder.evaluate(() => ({
    x: document.documentElement.scrollWidth > innerWidth,
    y: document.documentElement.scrollHeight > innerHeight,
  }));
  assert.deepEqual(overflow, { x: false, y: false });
  await until('recorder decodes both cameras', async () => {
    const vids = await sampleVideos(recorder, '#grid .tile video');
    return vids.length === 2 && vids.every((v) => v.width > 0 && v.frames > 0);
  });
  assert.equal(await recorder.locator('#grid .tile.featured').count(), 1, 'active speaker layout features one tile');

  // nobody sees a tile for it, the API does not list it, no event names it
  assert.equal(await alice.locator('#grid .tile').count(), 2);
  assert.equal(await bob.locator('#grid .tile').count(), 2);
  assert.equal(s.services.sfu.activePeers(roomId).length, 2);
  assert.equal(s.services.sfu.activePeers(roomId, { includeHidden: true }).length, 3);
  const active = await s.api('GET', `/v2/active-rooms/${roomId}`);
  assert.equal(Object.keys(active.body.peers).length, 2);
  assert.equal((await events('peer.join.success')).length, 2);

  // while the recorder watches, the publisher gets a keyframe request every ~2 s
  const room = s.services.sfu.rooms.get(roomId);
  const camera = [...(room?.peers.get(alicePeer)?.publications.values() ?? [])].find((p) => p.kind === 'camera' && !p.ended);
  assert.ok(camera?.forwarder);
  const plis = camera.forwarder.stats.plis;
  await until('periodic keyframe requests', () => camera.forwarder!.stats.plis >= plis + 2, 20_000);
});

test('a token for another room, a bad token and an unknown code are refused', async () => {
  const other = await s.api('POST', '/v2/rooms', { name: 'e2e-other-room' });
  const wrongRoomToken = await s.appToken(other.body.id, 'host');
  const page = await openPeerPage(browserA, `${s.url}/preview/${roomId}/host?skip_preview=true&auth_token=${encodeURIComponent(wrongRoomToken)}`);
  const error = await until('refusal shown', () => page.evaluate(() => document.body.dataset.error));
  assert.match(error, /another room/);
  assert.equal(await page.evaluate(() => document.body.dataset.joined), undefined);
  await page.goto(`${s.url}/meeting/zzz-zzzz-zzz`);
  assert.match(await until('unknown code refused', () => page.evaluate(() => document.body.dataset.error)), /not valid/);
  await page.goto(`${s.url}/preview/${roomId}/host?skip_preview=true`);
  assert.match(await until('no token refused', () => page.evaluate(() => document.body.dataset.error)), /auth_token/);
  await page.context().close();

  // the same at the protocol level: a forged token is refused and the socket closed with 4401
  const ws = new WebSocket(`${s.url.replace('http', 'ws')}/ws`);
  await new Promise((r, j) => ws.once('open', r).once('error', j));
  const [reply, closeCode] = await new Promise<[any, number]>((resolve) => {
    let msg: any;
    ws.on('message', (d) => (msg = JSON.parse(d.toString())));
    ws.on('close', (c) => resolve([msg, c]));
    ws.send(JSON.stringify({ type: 'join', token: wrongRoomToken.slice(0, -4) + 'AAAA', name: 'mallory' }));
  });
  assert.equal(reply.type, 'error');
  assert.equal(reply.code, 401);
  assert.equal(closeCode, 4401);
  // and only the two real peers ever joined
  assert.equal((await events('peer.join.success')).length, 2);
});

test('an hls-viewer waits for the live stream: no media, no tile for the others', async () => {
  const viewerCode = (await createRoomCode(s.services.store.db, roomId, 'hls-viewer')).code;
  const viewer = await openPeerPage(browserA, `${s.url}/meeting/${viewerCode}?skip_preview=true&name=Viewer`);
  await waitJoined(viewer);
  assert.equal(await viewer.getByText('Waiting for the live stream').isVisible(), true);
  assert.equal(await viewer.evaluate(() => (window as any).roomcast.pc), null);
  const peers = s.services.sfu.activePeers(roomId);
  assert.equal(peers.length, 3);
  const viewerPeer = peers.find((p) => p.role === 'hls-viewer');
  assert.ok(viewerPeer);
  assert.equal(viewerPeer.name, 'Viewer');
  // the stage roles do not subscribe to viewers: no tile appears for them
  assert.equal(await alice.locator('#grid .tile').count(), 2);
  await viewer.context().close();
  await until('viewer left', () => !s.services.sfu.activePeers(roomId).some((p) => p.id === viewerPeer.id));
});

test('killing a browser makes its peer leave within seconds', async () => {
  const killedAt = Date.now();
  browserB.kill();
  const leave = await until(
    "Bob's peer.leave.success",
    async () => (await events('peer.leave.success')).find((e) => e.data.peer_id === bobPeer),
    (PEER_TIMEOUT_SECONDS * 3 + 10) * 1000,
  );
  const seconds = (Date.now() - killedAt) / 1000;
  console.log(`# killed browser left after ${seconds.toFixed(1)} s, reason "${String(leave.data.reason)}"`);
  assert.ok(['websocket closed', 'server removed peer', 'ice connection state closed'].includes(String(leave.data.reason)), String(leave.data.reason));
  for (const field of ['left_at', 'duration', 'reason', 'message', 'session_id', 'joined_at']) assert.ok(field in leave.data, `peer.leave.success has ${field}`);
  await until("Bob's tile removed", async () => (await alice.locator(`#grid .tile[data-peer-id="${bobPeer}"]`).count()) === 0);
  assert.equal(s.services.sfu.activePeers(roomId).length, 1);
  // one visible peer is still here: the session stays open
  assert.equal((await events('session.close.success')).length, 0);
});

test('the session closes when the last visible peer leaves, even with the recorder still in', async () => {
  await alice.getByRole('button', { name: 'Leave' }).click();
  const leave = await until("Alice's leave", async () => (await events('peer.leave.success')).find((e) => e.data.peer_id === alicePeer));
  assert.equal(leave.data.reason, 'client request');
  const closed = await until('session.close.success', async () => (await events('session.close.success'))[0]);
  const opened = (await events('session.open.success'))[0];
  assert.equal(closed.data.session_id, opened.data.session_id);
  assert.equal(typeof closed.data.session_duration, 'number');
  assert.ok(closed.data.session_stopped_at);
  // the recorder is still connected, but it does not keep the session or the room "active"
  assert.equal(s.services.sfu.activePeers(roomId, { includeHidden: true }).length, 1);
  assert.equal((await s.api('GET', `/v2/active-rooms/${roomId}`)).status, 404);
  const row = await s.services.store.db.selectFrom('sessions').selectAll().where('id', '=', String(closed.data.session_id)).executeTakeFirstOrThrow();
  assert.equal(Number(row.active), 0);
  assert.ok(row.ended_at);
  const peers = await s.services.store.db.selectFrom('peers').selectAll().where('session_id', '=', row.id).execute();
  assert.equal(peers.length, 3, 'Alice, Bob and the viewer; never the recorder');
  assert.ok(peers.every((p) => p.left_at && p.leave_reason));
  // the sessions API shows the same history
  const viaApi = await s.api('GET', `/v2/sessions/${row.id}`);
  assert.equal(viaApi.status, 200);
  assert.equal(viaApi.body.active, false);
  await recorder.context().close();
  await until('recorder gone', () => s.services.sfu.activePeers(roomId, { includeHidden: true }).length === 0);
  await sleep(200);
  assert.equal((await events('session.close.success')).length, 1);
});
