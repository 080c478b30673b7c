// How peers across networks reach the SFU (issue 15), without a browser: the `joined` message hands the page
// TURN servers with coturn-style shared-secret credentials that live as long as its token; the SFU's offer
// announces RTC_ANNOUNCED_IP in its candidates, on ports within RTC_PORT_RANGE; bad settings are refused at
// start with a message naming the variable. The relayed and NAT paths with real browsers: test/e2e/network.test.ts.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { wsClient } from './wsClient.js';
import { loadConfig } from '../../src/config.js';
import { announceAddress, iceServersFor } from '../../src/sfu/iceConfig.js';

const SECRET = 'turn-shared-secret-for-tests';
const TURN_URLS = 'stun:turn.example.com:3478,turn:turn.example.com:3478?transport=udp,turns:turn.example.com:5349?transport=tcp';
let s: TestServer;
let roomId: string;

before(async () => {
  s = await startTestServer({ RTC_ANNOUNCED_IP: '203.0.113.10', RTC_PORT_RANGE: '41000-41039', TURN_URLS, TURN_SECRET: SECRET });
  roomId = (await s.api('POST', '/v2/rooms', { name: 'ice-room' })).body.id;
});
after(() => s?.stop());

test('joined: TURN servers with credentials from the shared secret, expiring with the token; the offer announces the public address within the port range', async () => {
  const token = await s.appToken(roomId, 'host', 'alice');
  const exp = JSON.parse(Buffer.from(token.split('.')[1], 'base64url').toString()).exp as number;
  const c = await wsClient(s.url);
  try {
    c.send({ type: 'join', token, name: 'Alice' });
    const joined = await c.next('joined');
    const servers = joined.ice_servers as Array<{ urls: string[]; username?: string; credential?: string }>;
    assert.deepEqual(servers.map((x) => x.urls), [['stun:turn.example.com:3478'], ['turn:turn.example.com:3478?transport=udp', 'turns:turn.example.com:5349?transport=tcp']]);
    const relay = servers[1];
    const [expiry, user] = relay.username!.split(':');
    assert.equal(Number(expiry), exp, 'the credentials expire with the token');
    assert.equal(user, 'alice');
    // coturn's use-auth-secret check: base64(HMAC-SHA1(secret, username))
    assert.equal(relay.credential, createHmac('sha1', SECRET).update(relay.username!).digest('base64'));
    assert.equal(servers[0].credential, undefined, 'STUN needs no credential');

    c.send({ type: 'publish', tracks: [{ cid: 'mic', kind: 'audio' }] });
    const offer = await c.next('offer');
    const candidates = (offer.sdp as string).split('\r\n').filter((l) => l.startsWith('a=candidate:'));
    assert.ok(candidates.length > 0, offer.sdp);
    for (const line of candidates) {
      const [, , , , address, port] = line.split(' ');
      assert.equal(address, '203.0.113.10', line);
      assert.ok(Number(port) >= 41000 && Number(port) <= 41039, line);
    }
  } finally {
    c.ws.close();
  }
});

test('peers gathering at once within RTC_PORT_RANGE get distinct ports of it, and the server stays up', async () => {
  const clients = await Promise.all([1, 2, 3, 4, 5].map(() => wsClient(s.url)));
  try {
    const offers = await Promise.all(clients.map(async (c, i) => {
      c.send({ type: 'join', token: await s.appToken(roomId, 'host', `p${i}`), name: `P${i}` });
      await c.next('joined');
      c.send({ type: 'publish', tracks: [{ cid: 'mic', kind: 'audio' }] });
      return (await c.next('offer')).sdp as string;
    }));
    const ports = offers.flatMap((sdp) => sdp.split('\r\n').filter((l) => l.startsWith('a=candidate:')).map((l) => Number(l.split(' ')[5])));
    assert.ok(ports.every((p) => p >= 41000 && p <= 41039), ports.join(' '));
    assert.equal(new Set(ports).size, ports.length, `each socket its own port: ${ports.join(' ')}`);
    assert.equal((await fetch(`${s.url}/healthz`)).status, 200);
  } finally {
    for (const c of clients) c.ws.close();
  }
});

test('TURN credentials: at least 10 minutes, at most a day; none without a secret; no servers without URLs', () => {
  const turn = { urls: ['turn:t.example.com:3478'], secret: 's' };
  const now = 1_800_000_000_000;
  const short = iceServersFor(turn, 'u', now / 1000 + 5, now)[0];
  assert.equal(Number(short.username!.split(':')[0]), now / 1000 + 600);
  const long = iceServersFor(turn, 'u', now / 1000 + 7 * 86400, now)[0];
  assert.equal(Number(long.username!.split(':')[0]), now / 1000 + 86400);
  assert.equal(iceServersFor(turn, 'a:b c', now / 1000 + 3600, now)[0].username, `${now / 1000 + 3600}:a_b_c`, 'the user part never holds the separator');
  assert.deepEqual(iceServersFor({ urls: turn.urls, secret: null }, 'u', undefined, now), [{ urls: turn.urls }]);
  assert.deepEqual(iceServersFor({ urls: [], secret: 's' }, 'u', undefined, now), []);
});

test('announceAddress: host candidates and their connection lines take the public address; the other family goes', () => {
  const sdp = [
    'v=0',
    'm=audio 9 UDP/TLS/RTP/SAVPF 111',
    'c=IN IP4 10.0.0.5',
    'a=candidate:1 1 udp 2130706431 10.0.0.5 41003 typ host',
    'a=candidate:2 1 udp 2130706431 fd00::5 41004 typ host',
    'a=candidate:3 1 udp 1694498815 198.51.100.7 50000 typ srflx raddr 10.0.0.5 rport 41003',
    '',
  ].join('\r\n');
  assert.equal(
    announceAddress(sdp, '203.0.113.10'),
    ['v=0', 'm=audio 9 UDP/TLS/RTP/SAVPF 111', 'c=IN IP4 203.0.113.10', 'a=candidate:1 1 udp 2130706431 203.0.113.10 41003 typ host', 'a=candidate:3 1 udp 1694498815 198.51.100.7 50000 typ srflx raddr 10.0.0.5 rport 41003', ''].join('\r\n'),
  );
});

test('bad network settings stop the start with a message naming the variable', () => {
  const base = { DATA_DIR: mkdtempSync(join(tmpdir(), 'roomcast-ice-config-')), ACCESS_KEY: 'k', APP_SECRET: 'x'.repeat(32) };
  const refused: Array<[Record<string, string>, RegExp]> = [
    [{ RTC_ANNOUNCED_IP: 'my.host.example' }, /RTC_ANNOUNCED_IP/],
    [{ RTC_PORT_RANGE: '40000' }, /RTC_PORT_RANGE/],
    [{ RTC_PORT_RANGE: '40010-40000' }, /RTC_PORT_RANGE/],
    [{ RTC_PORT_RANGE: '80-90' }, /RTC_PORT_RANGE/],
    [{ TURN_URLS: 'http://turn.example.com' }, /TURN_URLS/],
    [{ TURN_SECRET: 'alone' }, /TURN_SECRET/],
  ];
  for (const [env, message] of refused) assert.throws(() => loadConfig({ ...base, ...env }), message, JSON.stringify(env));
  const ok = loadConfig({ ...base, RTC_ANNOUNCED_IP: '2001:db8::1', RTC_PORT_RANGE: '40000-40199', TURN_URLS: 'turn:[2001:db8::2]:3478' });
  assert.deepEqual([ok.rtc.announcedIp, ok.rtc.portRange, ok.rtc.turn.urls], ['2001:db8::1', [40000, 40199], ['turn:[2001:db8::2]:3478']]);
  rmSync(base.DATA_DIR, { recursive: true, force: true });
});
