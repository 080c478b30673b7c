// Simulcast (issue 15): a camera is published in three layers and each subscriber is sent the one its tile
// needs. Real Chromium peers, a 1280×720 camera: the publisher's encoder sends three sizes; a subscriber showing
// the camera large decodes the full size, and the same subscriber with a small window decodes the small layer
// (measured on the decoded frames), switched on a keyframe without the picture stopping.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import type { Page } from 'playwright-core';
import { launchPeerBrowser, makeMediaFixtures, openPeerPage, sampleVideos, until, waitJoined, type PeerBrowser } from '../helpers/meetingPeers.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

const media = makeMediaFixtures('1280x720');
let s: TestServer | null = null;
let peers: PeerBrowser | null = null;

after(async () => {
  await peers?.close();
  await s?.stop();
  media.remove();
});

/** The publisher's layers as its encoder sends them: rid → frame width (0: not sent). */
function sentLayers(page: Page): Promise<Record<string, number>> {
  return page.evaluate(async () => {
    const pc = (window as unknown as { roomcast: { pc: RTCPeerConnection } }).roomcast.pc;
    const out: Record<string, number> = {};
    (await pc.getStats()).forEach((r: Record<string, unknown>) => {
      if (r.type === 'outbound-rtp' && r.kind === 'video') out[String(r.rid ?? '')] = Number(r.frameWidth ?? 0);
    });
    return out;
  });
}

/** Bob's decoding of Alice's camera: frame width, frames and keyframes decoded, freezes (Chrome's own count). */
function received(page: Page): Promise<{ width: number; frames: number; keyframes: number; freezes: number }> {
  return page.evaluate(async () => {
    const pc = (window as unknown as { roomcast: { pc: RTCPeerConnection } }).roomcast.pc;
    const out = { width: 0, frames: 0, keyframes: 0, freezes: 0 };
    (await pc.getStats()).forEach((r: Record<string, unknown>) => {
      if (r.type !== 'inbound-rtp' || r.kind !== 'video') return;
      out.width = Math.max(out.width, Number(r.frameWidth ?? 0));
      out.frames += Number(r.framesDecoded ?? 0);
      out.keyframes += Number(r.keyFramesDecoded ?? 0);
      out.freezes += Number(r.freezeCount ?? 0);
    });
    return out;
  });
}

test('a subscriber decodes the layer its tile needs: full size large, half size in a tile half as wide, the small layer in a small window', async () => {
  s = await startTestServer({});
  peers = await launchPeerBrowser(media);
  const roomId = (await s.api('POST', '/v2/rooms', { name: 'simulcast' })).body.id;
  const codes = Object.fromEntries((await s.api('POST', `/v2/room-codes/room/${roomId}`)).body.data.map((c: any) => [c.role, c.code]));
  const alice = await openPeerPage(peers, `${s.url}/meeting/${codes.host}?skip_preview_headful=true&name=Alice`);
  await waitJoined(alice);
  const bob = await openPeerPage(peers, `${s.url}/meeting/${codes.guest}?skip_preview_headful=true&name=Bob`);
  await waitJoined(bob);
  // the publisher's encoder sends three sizes
  const sent = await until('three layers sent', async () => {
    const l = await sentLayers(alice);
    return Object.values(l).filter((w) => w > 0).length === 3 ? l : null;
  }, 30_000, 500);
  assert.deepEqual(Object.values(sent).sort((a, b) => a - b), [320, 640, 1280], JSON.stringify(sent));

  const aliceId = await alice.evaluate(() => document.body.dataset.peerId);
  const tileWidth = () => bob.evaluate((sel) => document.querySelector<HTMLVideoElement>(sel)!.clientWidth, `.tile[data-peer-id="${aliceId}"] video`);
  // (the window sizes give Alice's tile on Bob's page about 1260, 620 and 170 pixels)
  const phases = [
    { viewport: { width: 2560, height: 1440 }, width: 1280 },
    { viewport: { width: 1280, height: 720 }, width: 640 },
    { viewport: { width: 360, height: 240 }, width: 320 },
  ];
  let before = await received(bob);
  for (const phase of phases) {
    await bob.setViewportSize(phase.viewport);
    const now = await until(`Bob decodes ${phase.width} wide`, async () => {
      const r = await received(bob);
      return r.width === phase.width ? r : null;
    }, 30_000, 250);
    // the picture goes on after the switch (decoded frames keep coming, from a keyframe of the new layer)
    await new Promise((r) => setTimeout(r, 2000));
    const later = await received(bob);
    console.log(`# tile ${await tileWidth()} px → layer ${phase.width} wide; ${later.frames - now.frames} frames in 2 s after the switch; keyframes ${later.keyframes - before.keyframes}, freezes ${later.freezes - before.freezes} since the last phase`);
    assert.equal(later.width, phase.width, 'the layer stays');
    assert.ok(later.frames - now.frames >= 10, `${later.frames - now.frames} frames decoded in the 2 s after switching to ${phase.width}`);
    assert.ok(later.keyframes > before.keyframes, 'the switch starts with a keyframe of the new layer');
    before = later;
  }
});
