// Media across networks (issue 15), with real Chromium peers in network namespaces made by the test
// (helpers/netns.ts): nothing but the kernel's routing, nftables and Debian's coturn between them and the SFU.
//  - TURN over TCP: a peer whose namespace drops every UDP packet joins through coturn (TURN_URLS with
//    transport=tcp, credentials from TURN_SECRET handed out at join); it and a peer on this machine decode
//    each other's video, and its selected ICE pair is a relayed one.
//  - ICE over TCP (RTC_ICE_TCP): the same UDP-less peer reaches the SFU's own passive TCP candidate, no TURN.
//  - 1:1 NAT: the server announces 203.0.113.10 (RTC_ANNOUNCED_IP), an address it does not have; nftables
//    forwards it to the server (DNAT) and drops any other UDP from the peer's namespace, so the peer reaches the
//    SFU only through the announced address; both peers decode each other's video.
//  - 5 % loss: nftables drops a random 5 % of the UDP packets into and out of a peer's namespace (this kernel has
//    no netem: `numgen random`). For 20 s, it and a peer on this machine go on decoding each other's video
//    (at least a quarter of the frames sent) and hearing each other; the SFU counts the NACKs it sent the lossy publisher
//    and the packets it sent again to the lossy subscriber (/metrics). How still a composite recording of
//    them stands is a figure, not an assertion: on 2 cores it swings with the machine's load (README).
//  - The media path breaks while signaling stays (nftables drops all of the peer's UDP for a while): the page
//    shows "Reconnecting…", asks for an ICE restart and applies the server's offer with fresh ICE credentials;
//    when UDP passes again, media flows on the restarted ICE, the same peer in the room (no leave, no rejoin).
//    (One pair cut alone is not a test of this: ICE moves to another pair by itself.)
//  - IPv6: the SFU offers IPv6 host candidates where this machine has a global address; a peer whose IPv4
//    UDP is dropped connects over IPv6.
//  - Simulcast under a narrow link: ~400 kbit/s into a peer's namespace gets it the small layer, and the full
//    one again once the limit goes (its REMB).
import { test, before, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import type { Page } from 'playwright-core';
import { launchPeerBrowser, makeMediaFixtures, openPeerPage, rtpStats, until, waitJoined, type PeerBrowser } from '../helpers/meetingPeers.js';
import { PeerNamespace, namespacedPair, randomLossRuleset, startCoturn, type Coturn } from '../helpers/netns.js';
import { freePort } from '../helpers/postgres.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { sample } from '../helpers/metrics.js';

const ANNOUNCED = '203.0.113.10';
const SECRET = 'network-test-turn-secret';
/** inside a peer's namespace: every UDP packet it sends is dropped (a network that allows only TCP) */
const DROP_UDP_OUT = 'table inet roomcast_block {\n chain out {\n  type filter hook output priority 0; policy accept;\n  meta l4proto udp drop\n }\n}\n';
const media = makeMediaFixtures();
const cleanups: Array<() => Promise<void> | void> = [];

before(() => {
  if (process.getuid?.() !== 0) throw new Error('network namespaces and nftables need root');
});
// each test's browsers, servers, namespaces and coturn go when it ends: the next one runs on a quiet machine
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

/** The page's selected ICE pair: its local and remote candidates as getStats gives them. */
async function selectedPair(page: Page): Promise<{ local: Record<string, unknown>; remote: Record<string, unknown> } | null> {
  return page.evaluate(async () => {
    const pc = (window as unknown as { roomcast?: { pc: RTCPeerConnection | null } }).roomcast?.pc;
    if (!pc) return null;
    const stats = [...(await pc.getStats()).values()] as Array<Record<string, unknown>>;
    const transport = stats.find((s) => s.type === 'transport' && s.selectedCandidatePairId);
    const pair = stats.find((s) => s.id === transport?.selectedCandidatePairId);
    if (!pair) return null;
    return { local: stats.find((s) => s.id === pair.localCandidateId)!, remote: stats.find((s) => s.id === pair.remoteCandidateId)! };
  });
}

const twoPeers = (s: TestServer, ns: PeerNamespace, room: string) => namespacedPair(s, ns, room, media, cleanups);

test('a peer whose network drops all UDP joins through coturn over TCP; both peers decode each other', async () => {
  const ns = PeerNamespace.create('turn', 71);
  cleanups.push(() => ns.destroy());
  ns.nftInside(DROP_UDP_OUT);
  const coturn: Coturn = await startCoturn({ ip: ns.hostIp, port: await freePort(), secret: SECRET });
  cleanups.push(() => coturn.stop());
  const s = await startTestServer({ HOST: '0.0.0.0', TURN_URLS: coturn.url, TURN_SECRET: SECRET });
  cleanups.push(() => s.stop());
  const room = (await s.api('POST', '/v2/rooms', { name: 'turn-room' })).body.id;
  const { inside } = await twoPeers(s, ns, room);
  const pair = await selectedPair(inside);
  assert.equal(pair?.local.candidateType, 'relay', JSON.stringify(pair));
  assert.equal(pair?.local.relayProtocol, 'tcp', JSON.stringify(pair));
});

test('ICE over TCP: a peer whose network drops all UDP reaches the SFU itself over TCP, no TURN needed', async () => {
  const ns = PeerNamespace.create('tcp', 75);
  cleanups.push(() => ns.destroy());
  ns.nftInside(DROP_UDP_OUT);
  const s = await startTestServer({ HOST: '0.0.0.0', RTC_ICE_TCP: 'true', RTC_PORT_RANGE: '41100-41199' });
  cleanups.push(() => s.stop());
  const room = (await s.api('POST', '/v2/rooms', { name: 'tcp-room' })).body.id;
  const { inside } = await twoPeers(s, ns, room);
  const pair = await selectedPair(inside);
  assert.equal(pair?.local.protocol, 'tcp', JSON.stringify(pair));
  assert.equal(pair?.remote.candidateType, 'host', JSON.stringify(pair));
  assert.ok(Number(pair?.remote.port) >= 41100 && Number(pair?.remote.port) <= 41199, `the SFU's TCP port is in RTC_PORT_RANGE: ${JSON.stringify(pair)}`);
});

test('behind a 1:1 NAT: the server announces the public address and the peer reaches it only there', async () => {
  const ns = PeerNamespace.create('nat', 72);
  cleanups.push(() => ns.destroy());
  // the "public" address is forwarded to this machine (from the peer's side, and for the local peer); UDP from
  // the peer's namespace to anything else here is dropped
  ns.nftHost('ip roomcast_nat', `
    chain pre {
      type nat hook prerouting priority -100; policy accept;
      iifname "${ns.hostIf}" ip daddr ${ANNOUNCED} dnat to ${ns.hostIp}
    }
    chain out {
      type nat hook output priority -100; policy accept;
      ip daddr ${ANNOUNCED} dnat to ${ns.hostIp}
    }`);
  ns.nftHost('inet roomcast_nat_filter', `
    chain in {
      type filter hook input priority 0; policy accept;
      iifname "${ns.hostIf}" meta l4proto udp ct status dnat accept
      iifname "${ns.hostIf}" meta l4proto udp drop
    }`);
  const s = await startTestServer({ HOST: '0.0.0.0', RTC_ANNOUNCED_IP: ANNOUNCED });
  cleanups.push(() => s.stop());
  const room = (await s.api('POST', '/v2/rooms', { name: 'nat-room' })).body.id;
  const { inside } = await twoPeers(s, ns, room);
  const pair = await selectedPair(inside);
  assert.equal(pair?.remote.address ?? pair?.remote.ip, ANNOUNCED, JSON.stringify(pair));
});

test('IPv6: a peer whose IPv4 UDP is dropped reaches the SFU over IPv6, and both peers decode each other', async () => {
  const ns = PeerNamespace.create('ipv6', 77);
  cleanups.push(() => ns.destroy());
  const { hostIp6, peerIp6 } = ns.addIpv6();
  // signaling stays on IPv4 (TCP); media can only go over IPv6
  ns.nftInside('table inet roomcast_v4 {\n chain out {\n  type filter hook output priority 0; policy accept;\n  meta nfproto ipv4 meta l4proto udp drop\n }\n}\n');
  const s = await startTestServer({ HOST: '0.0.0.0' });
  cleanups.push(() => s.stop());
  const room = (await s.api('POST', '/v2/rooms', { name: 'ipv6-room' })).body.id;
  const { inside } = await twoPeers(s, ns, room);
  // the server's offer has a candidate on the link's IPv6 address, and the media goes over the peer's
  // (Chrome shows the server's side of the pair as peer-reflexive, without its address)
  const offer = await inside.evaluate(() => (window as unknown as { roomcast: { pc: RTCPeerConnection } }).roomcast.pc.remoteDescription?.sdp ?? '');
  assert.ok(offer.split('\r\n').some((l) => l.startsWith('a=candidate:') && l.split(' ')[4] === hostIp6), offer);
  const pair = await selectedPair(inside);
  assert.equal(pair?.local.address ?? pair?.local.ip, peerIp6, JSON.stringify(pair));
});

const LOSSY_SECONDS = 20;

test('5 % packet loss on a peer\'s link: both peers go on decoding video and hearing audio, NACKs and retransmissions are counted', async () => {
  const ns = PeerNamespace.create('loss', 73);
  cleanups.push(() => ns.destroy());
  ns.nftInside(randomLossRuleset(5));
  const s = await startTestServer({ HOST: '0.0.0.0' });
  cleanups.push(() => s.stop());
  const room = (await s.api('POST', '/v2/rooms', { name: 'loss-room' })).body.id;
  const pages = await twoPeers(s, ns, room);
  const before = { inside: await rtpStats(pages.inside), outside: await rtpStats(pages.outside) };
  await new Promise((r) => setTimeout(r, LOSSY_SECONDS * 1000));
  // each side decoded the other's video all along (15 fps sent; a quarter of them at least, on a loaded machine) and heard it
  for (const [name, page] of Object.entries(pages)) {
    const now = await rtpStats(page);
    const was = before[name as keyof typeof before];
    console.log(JSON.stringify({ name, framesDecoded: now.videoFramesDecoded - was.videoFramesDecoded }));
    assert.ok(now.videoFramesDecoded - was.videoFramesDecoded > LOSSY_SECONDS * 15 * 0.25, `${name} decoded ${now.videoFramesDecoded - was.videoFramesDecoded} frames in ${LOSSY_SECONDS} s`);
    assert.ok(now.audioEnergy > was.audioEnergy, `${name} hears the other`);
  }
  const metrics = await (await fetch(`${s.url}/metrics`, { headers: { authorization: `Bearer ${s.token}` } })).text();
  const nacks = sample(metrics, 'roomcast_sfu_nacks_sent_total') ?? 0;
  const resent = sample(metrics, 'roomcast_sfu_retransmitted_packets_total') ?? 0;
  console.log(JSON.stringify({ nacksSent: nacks, retransmittedPackets: resent, seconds: LOSSY_SECONDS }));
  assert.ok(nacks > 0, 'the SFU asked the lossy publisher for lost packets');
  assert.ok(resent > 0, 'the SFU sent the lossy subscriber packets again');
});

test('a subscriber whose link carries little is sent a smaller simulcast layer (its REMB), and the full one again once the link is free', async () => {
  const ns = PeerNamespace.create('rate', 76);
  cleanups.push(() => ns.destroy());
  // about 400 kbit/s of UDP into the peer's namespace: less than the full layer needs
  ns.nftInside(`table inet roomcast_rate {
 chain in {
  type filter hook input priority 0; policy accept;
  meta l4proto udp limit rate over 50 kbytes/second drop
 }
}
`);
  const s = await startTestServer({ HOST: '0.0.0.0' });
  cleanups.push(() => s.stop());
  const room = (await s.api('POST', '/v2/rooms', { name: 'rate-room' })).body.id;
  const { inside, outside } = await twoPeers(s, ns, room);
  const outsideId = await outside.evaluate(() => document.body.dataset.peerId);
  const decodedWidth = () => inside.evaluate(async () => {
    const pc = (window as unknown as { roomcast: { pc: RTCPeerConnection } }).roomcast.pc;
    let width = 0;
    (await pc.getStats()).forEach((r: Record<string, unknown>) => {
      if (r.type === 'inbound-rtp' && r.kind === 'video') width = Math.max(width, Number(r.frameWidth ?? 0));
    });
    return width;
  });
  const tile = await inside.evaluate((sel) => document.querySelector<HTMLVideoElement>(sel)!.clientWidth, `.tile[data-peer-id="${outsideId}"] video`);
  const t0 = Date.now();
  await until('a smaller layer for the narrow link', async () => (await decodedWidth()) <= 320, 60_000, 500);
  console.log(`# a ${tile} px tile over ~400 kbit/s: ${await decodedWidth()} wide after ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  ns.exec('nft', ['delete', 'table', 'inet', 'roomcast_rate']);
  const t1 = Date.now();
  await until('the full layer again', async () => (await decodedWidth()) === 640, 90_000, 500);
  console.log(`# link free: the full layer again after ${((Date.now() - t1) / 1000).toFixed(1)} s`);
});

test('the media path breaks while signaling stays: "Reconnecting…", an ICE restart, media again, the same peer', async () => {
  const ns = PeerNamespace.create('move', 74);
  cleanups.push(() => ns.destroy());
  const s = await startTestServer({ HOST: '0.0.0.0' });
  cleanups.push(() => s.stop());
  const room = (await s.api('POST', '/v2/rooms', { name: 'move-room' })).body.id;
  const { inside, outside } = await twoPeers(s, ns, room);
  const peerId = await inside.evaluate(() => (window as unknown as { roomcast: { peerId: string } }).roomcast.peerId);
  const ufrag = () => inside.evaluate(() => /a=ice-ufrag:(\S+)/.exec((window as unknown as { roomcast: { pc: RTCPeerConnection } }).roomcast.pc.remoteDescription?.sdp ?? '')?.[1]);
  const firstUfrag = await ufrag();
  // every media path is gone (as when the network under a laptop changes); the WebSocket is TCP and stays
  ns.nftInside(`table inet roomcast_move {
 chain out {
  type filter hook output priority 0; policy accept;
  meta l4proto udp drop
 }
 chain in {
  type filter hook input priority 0; policy accept;
  meta l4proto udp drop
 }
}
`);
  await inside.waitForFunction(() => document.body.dataset.reconnecting === 'true', null, { timeout: 30_000 });
  assert.equal(await inside.textContent('#status'), 'Reconnecting…');
  // the page asked for an ICE restart, and the server's new offer (fresh ICE credentials) was applied
  await until('the ICE restart offer applied', async () => (await ufrag()) !== firstUfrag, 20_000, 250);
  assert.ok(Number(await inside.evaluate(() => document.body.dataset.iceRestarts ?? '0')) >= 1);
  // the network is back: the restarted ICE finds the path
  ns.exec('nft', ['delete', 'table', 'inet', 'roomcast_move']);
  await inside.waitForFunction(() => document.body.dataset.connection === 'connected' && document.body.dataset.reconnecting !== 'true', null, { timeout: 30_000 });
  assert.equal(await inside.textContent('#status'), 'Connected');
  assert.equal(await inside.evaluate(() => (window as unknown as { roomcast: { peerId: string } }).roomcast.peerId), peerId, 'the same peer: it never left');
  const present = Object.keys((await s.api('GET', `/v2/active-rooms/${room}`)).body.peers ?? {});
  assert.ok(present.includes(peerId), `still in the room: ${present.join(', ')}`);
  for (const [name, page] of Object.entries({ inside, outside })) {
    const at = (await rtpStats(page)).videoFramesDecoded;
    await until(`${name} decodes video again`, async () => (await rtpStats(page)).videoFramesDecoded > at + 30, 30_000, 500);
  }
});
