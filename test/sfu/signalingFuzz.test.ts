// The /ws signaling socket under abuse: random frames (garbage, binary, huge, bad JSON, valid-shaped messages in
// any order, forged tokens). The server must answer `error` or close cleanly, never fail internally, and stay
// usable. Fixed seed; FUZZ_SEED=<n> or FUZZ_SEED=random for another run locally.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { SignJWT } from 'jose';
import { startTestServer, TEST_KEYS, type TestServer } from '../helpers/server.js';
import { signAppToken } from '../../src/auth/tokens.js';
import { RECORDER_ROLE } from '../../src/model/templates.js';
import { until } from '../helpers/meetingPeers.js';
import { wsClient, settled } from './wsClient.js';

const seed = process.env.FUZZ_SEED === 'random' ? Date.now() % 2 ** 31 : Number(process.env.FUZZ_SEED ?? 1010);
const RUNS = Number(process.env.FUZZ_RUNS ?? 120);

const SERVER_TYPES = new Set(['pong', 'preview', 'joined', 'offer', 'peer-joined', 'peer-left', 'track-added', 'track-removed', 'track-updated', 'published', 'refused', 'speaking', 'removed', 'error']);
/** normal close, policy (flood/deadline), frame too big, and 4000 + a refused join's code */
const CLEAN_CLOSES = new Set([1000, 1008, 1009, 4401, 4403, 4404]);

let s: TestServer;
let roomId: string;
let tokens: Record<string, string>;

before(async () => {
  s = await startTestServer();
  roomId = (await s.api('POST', '/v2/rooms', { name: 'fuzz-room' })).body.id;
  const wrongKeys = { accessKey: TEST_KEYS.accessKey, appSecret: 'not-the-app-secret-0123456789' };
  const now = Math.floor(Date.now() / 1000);
  tokens = {
    host: await s.appToken(roomId, 'host', 'fuzz-host'),
    guest: await s.appToken(roomId, 'guest'),
    viewer: await s.appToken(roomId, 'hls-viewer'),
    management: s.token,
    badSignature: await signAppToken(wrongKeys, { room_id: roomId, role: 'host', user_id: '' }),
    recorderWrongKey: await signAppToken(wrongKeys, { room_id: roomId, role: RECORDER_ROLE, user_id: '' }),
    expired: await signAppToken(TEST_KEYS, { room_id: roomId, role: 'host', user_id: '' }, -3600),
    unknownRoom: await s.appToken('aaaaaaaaaaaaaaaaaaaaaaaa', 'host'),
    unknownRole: await s.appToken(roomId, 'no-such-role'),
    wrongAccessKey: await signAppToken({ accessKey: 'someone-else', appSecret: TEST_KEYS.appSecret }, { room_id: roomId, role: 'host', user_id: '' }),
    noneAlg: `${Buffer.from('{"alg":"none","typ":"JWT"}').toString('base64url')}.${Buffer.from(JSON.stringify({ type: 'app', room_id: roomId, role: 'host', exp: now + 600 })).toString('base64url')}.`,
    missingClaims: await new SignJWT({ type: 'app', room_id: roomId, role: 'host' }).setProtectedHeader({ alg: 'HS256' }).sign(new TextEncoder().encode(TEST_KEYS.appSecret)),
    garbage: 'eyJhbGciOi.not.a.jwt',
  };
});
after(() => s?.stop());

// ---- arbitraries

const TOKEN_NAMES = ['host', 'guest', 'viewer', 'management', 'badSignature', 'recorderWrongKey', 'expired', 'unknownRoom', 'unknownRole', 'wrongAccessKey', 'noneAlg', 'missingClaims', 'garbage'];
const tokenArb = () => fc.constantFrom(...TOKEN_NAMES).map((k) => tokens[k]);
const sdpArb = fc.oneof(
  fc.string({ minLength: 1, maxLength: 200 }),
  fc.constant('v=0\r\no=- 0 0 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\nm=video 9 UDP/TLS/RTP/SAVPF 96\r\na=mid:0\r\na=sendonly\r\n'),
);
const kindArb = fc.constantFrom('camera', 'screen', 'audio', 'video', '');

/** messages of the right shape (mostly) with random contents, in any order */
const messageArb: fc.Arbitrary<unknown> = fc.oneof(
  fc.record({ type: fc.constant('join'), token: tokenArb(), name: fc.option(fc.string({ maxLength: 120 }), { nil: undefined }), room_id: fc.option(fc.constantFrom('x', 'aaaaaaaaaaaaaaaaaaaaaaaa'), { nil: undefined }), role: fc.option(fc.constantFrom('host', RECORDER_ROLE, 'guest'), { nil: undefined }) }, { requiredKeys: ['type', 'token'] }),
  fc.record({ type: fc.constant('join'), token: tokenArb(), user_data: fc.oneof(fc.string({ maxLength: 3000 }), fc.dictionary(fc.string({ maxLength: 8 }), fc.jsonValue({ maxDepth: 3 })), fc.constant({ big: 'x'.repeat(3000) })) }),
  fc.record({ type: fc.constant('preview'), token: tokenArb() }),
  fc.record({ type: fc.constant('answer'), sdp: sdpArb }),
  fc.record({ type: fc.constant('candidate'), candidate: fc.oneof(fc.constant(null), fc.record({ candidate: fc.string({ maxLength: 80 }), sdpMid: fc.option(fc.string({ maxLength: 4 })), sdpMLineIndex: fc.option(fc.integer({ min: -1, max: 2000 })) })) }),
  fc.record({ type: fc.constant('publish'), tracks: fc.array(fc.record({ cid: fc.string({ maxLength: 10 }), kind: kindArb, muted: fc.option(fc.boolean(), { nil: undefined }) }, { requiredKeys: ['cid', 'kind'] }), { maxLength: 5 }) }),
  fc.record({ type: fc.constant('unpublish'), track_id: fc.string({ maxLength: 70 }) }),
  fc.record({ type: fc.constant('mute'), track_id: fc.string({ maxLength: 10 }), muted: fc.oneof(fc.boolean(), fc.constant('yes')) }),
  fc.constantFrom({ type: 'leave' }, { type: 'ping' }, { type: 'nope' }, { type: 'join' }, {}, [], null),
);

/** one frame: text (JSON or not), binary, or oversized */
const frameArb: fc.Arbitrary<string | Buffer> = fc.oneof(
  { weight: 6, arbitrary: messageArb.map((m) => JSON.stringify(m)) },
  { weight: 1, arbitrary: fc.jsonValue().map((v) => JSON.stringify(v)) },
  { weight: 1, arbitrary: fc.string({ maxLength: 100 }) },
  { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 50 }) },
  { weight: 1, arbitrary: fc.uint8Array({ maxLength: 64 }).map((a) => Buffer.from(a)) },
  { weight: 1, arbitrary: fc.constantFrom('{"type":"join","token":', '{"type":"ping"}}', '\u0000', '{"__proto__":{"type":"leave"}}', '{"type":"ping","constructor":{"prototype":{}}}') },
  { weight: 1, arbitrary: fc.integer({ min: 100_000, max: 400_000 }).map((n) => JSON.stringify({ type: 'answer', sdp: 'a'.repeat(n) })) },
);

/** a few runs start with a legitimate join, so messages after it (publish, answer, a second join…) are fuzzed too */
const scenarioArb = fc.record({
  joinFirst: fc.constantFrom(null, 'viewer', 'host'),
  frames: fc.array(frameArb, { minLength: 1, maxLength: 8 }),
});

test('random frames never crash the server: an error answer or a clean close, then all is well', async () => {
  await fc.assert(
    fc.asyncProperty(scenarioArb, async ({ joinFirst, frames }) => {
      const c = await wsClient(s.url);
      try {
        if (joinFirst) {
          c.send({ type: 'join', token: tokens[joinFirst], name: 'fuzzer' });
          await c.next('joined');
          if (joinFirst === 'host') c.send({ type: 'publish', tracks: [{ cid: 'cam', kind: 'camera' }] });
        }
        for (const f of frames) if (c.ws.readyState === c.ws.OPEN) c.ws.send(f);
        const how = await settled(c);
        for (const m of c.received) {
          assert.ok(SERVER_TYPES.has(m.type), `unknown reply ${JSON.stringify(m).slice(0, 200)}`);
          // never 500: an internal failure is a bug the fuzzer found
          if (m.type === 'error') assert.ok([400, 401, 403, 404, 409].includes(m.code), `error ${m.code}: ${m.message}`);
        }
        if (how === 'closed') assert.ok(CLEAN_CLOSES.has(await c.closed), `close code ${await c.closed}`);
      } finally {
        c.ws.close();
        await c.closed;
      }
    }),
    { seed, numRuns: RUNS, endOnFailure: true },
  );
  // every fuzzing socket is gone, and so are its peers
  await until('fuzz peers left', () => (s.services.sfu.stats().peers === 0 ? true : undefined), 20_000);
  assert.equal((await fetch(`${s.url}/healthz`)).status, 200);
  const c = await wsClient(s.url);
  c.send({ type: 'join', token: tokens.guest, name: 'After the storm' });
  const joined = await c.next('joined');
  assert.equal(joined.role.name, 'guest');
  assert.equal(s.services.sfu.activePeers(roomId).length, 1);
  c.ws.close();
  await c.closed;
});

test('messages out of order: before join, join twice, after leave', async () => {
  const c = await wsClient(s.url);
  for (const m of [{ type: 'answer', sdp: 'v=0' }, { type: 'publish', tracks: [{ cid: 'a', kind: 'audio' }] }, { type: 'candidate', candidate: null }, { type: 'unpublish', track_id: 'x' }, { type: 'mute', track_id: 'x', muted: true }, { type: 'leave' }]) {
    c.send(m);
    const err = await c.next('error');
    assert.equal(err.code, 409, `${m.type} before join`);
  }
  c.send({ type: 'join', token: tokens.viewer });
  c.send({ type: 'join', token: tokens.viewer });
  const joined = await c.next('joined');
  assert.match((await c.next('error')).message, /already joined/);
  // leave, then more messages already on their way: the socket closes, nothing else is answered or joined
  c.send({ type: 'leave' });
  c.send({ type: 'join', token: tokens.viewer });
  c.send({ type: 'ping' });
  assert.equal(await c.closed, 1000);
  assert.equal(c.received.filter((m) => m.type === 'joined').length, 1);
  assert.equal(c.received.filter((m) => m.type === 'pong').length, 0);
  const leave = await until('leave event', async () => (await s.services.events.list({ type: 'peer.leave.success', roomId })).find((e) => e.data.peer_id === joined.peer_id));
  assert.equal(leave.data.reason, 'client request');
  assert.equal(s.services.sfu.activePeers(roomId).length, 0);
});

test('forged join tokens are refused with 401/403/404 and the socket closes', async () => {
  const cases: Array<[keyof typeof tokens, number, Record<string, unknown>?]> = [
    ['badSignature', 401],
    ['recorderWrongKey', 401],
    ['expired', 401],
    ['wrongAccessKey', 401],
    ['noneAlg', 401],
    ['missingClaims', 401],
    ['garbage', 401],
    ['management', 403],
    ['unknownRole', 403],
    ['unknownRoom', 404],
    ['host', 403, { room_id: 'bbbbbbbbbbbbbbbbbbbbbbbb' }],
    ['host', 403, { role: RECORDER_ROLE }],
  ];
  for (const [name, code, extra] of cases) {
    const c = await wsClient(s.url);
    c.send({ type: 'join', token: tokens[name], ...extra });
    const err = await c.next('error');
    assert.equal(err.code, code, `${name}: ${err.message}`);
    assert.equal(await c.closed, 4000 + code, name);
    assert.ok(!JSON.stringify(c.received).includes(TEST_KEYS.appSecret));
  }
  assert.equal(s.services.sfu.stats().peers, 0);
});
