// Outgoing webhook targets on loopback/private/link-local addresses are refused unless WEBHOOK_ALLOW_PRIVATE,
// judged by the addresses a name resolves to at send time (not by the name).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { WebhookReceiver, waitFor } from '../helpers/webhookReceiver.js';
import { isPrivateAddress, resolveAllowed, signBody } from '../../src/webhooks/deliver.js';
import { webhookEnvelope } from '../../src/webhooks/outbox.js';

let s: TestServer;
const rx = new WebhookReceiver();
before(async () => {
  await rx.listen();
  s = await startTestServer({ WEBHOOK_URL: rx.url('/ws'), RECORDER_WORKERS: '0' });
});
after(async () => {
  await s.stop();
  await rx.close();
});

test('address classes: loopback, private, link-local, CGNAT, mapped and NAT64 forms refused; public allowed', () => {
  for (const ip of ['127.0.0.1', '127.8.9.1', '10.1.2.3', '172.16.0.1', '172.31.255.255', '192.168.1.1', '169.254.169.254', '100.64.0.1', '0.0.0.0', '224.0.0.1', '255.255.255.255', '::1', '::', 'fe80::1', 'fd00::1', 'fc00::5', 'ff02::1', '::ffff:127.0.0.1', '::ffff:7f00:1', '::ffff:10.0.0.1', '64:ff9b::a9fe:a9fe', '2002:c0a8:0101::1', 'not-an-ip']) {
    assert.equal(isPrivateAddress(ip), true, ip);
  }
  for (const ip of ['8.8.8.8', '1.1.1.1', '172.32.0.1', '192.169.0.1', '2606:4700:4700::1111', '::ffff:8.8.8.8', '64:ff9b::808:808']) {
    assert.equal(isPrivateAddress(ip), false, ip);
  }
});

test('names are judged by what they resolve to: localhost is refused, an IP literal in brackets too', async () => {
  await assert.rejects(resolveAllowed(new URL('http://localhost:9/x'), false), /resolves to .*(127\.0\.0\.1|::1)/);
  await assert.rejects(resolveAllowed(new URL('http://[::1]:9/x'), false), /loopback\/private/);
  await assert.rejects(resolveAllowed(new URL('http://2130706433/x'), false), /127\.0\.0\.1/); // decimal form of 127.0.0.1
  await assert.rejects(resolveAllowed(new URL('file:///etc/passwd'), false), /not http/);
  assert.ok((await resolveAllowed(new URL('http://localhost:9/x'), true)).some((a) => a.address === '127.0.0.1' || a.address === '::1'));
  assert.deepEqual(await resolveAllowed(new URL('http://93.184.215.14/x'), false), [{ address: '93.184.215.14', family: 4 }]);
});

test('without WEBHOOK_ALLOW_PRIVATE a loopback target gets nothing; the log says why; no retries', async () => {
  const r = await s.api('POST', '/v2/rooms', { name: 'guard-a' });
  const roomByName = await s.api('POST', '/v2/rooms', { name: 'guard-b', webhook: { url: `http://localhost:${rx.port}/room` } });
  const e1 = await s.services.events.emit('session.open.success', r.body.id, { room_id: r.body.id });
  const e2 = await s.services.events.emit('session.open.success', roomByName.body.id, { room_id: roomByName.body.id });
  const failed = await waitFor('both deliveries refused', async () => {
    const out = [];
    for (const room of [r.body.id, roomByName.body.id]) out.push(...(await s.api('GET', `/v2/analytics/webhooks?status=failed&room_id=${room}`)).body.events);
    return out.length === 2 ? out : null;
  }, 20_000);
  for (const f of failed) {
    assert.ok([e1.id, e2.id].includes(f.event_id));
    assert.match(f.payload.error_reason, /^refused: .*loopback\/private.*WEBHOOK_ALLOW_PRIVATE/);
    assert.equal(f.payload.attempts, 1);
  }
  assert.equal(rx.hits, 0, 'the receiver was never contacted');
});

test('envelope and signature helpers: second-precision timestamp, HMAC over "<t>.<body>"', () => {
  const env = webhookEnvelope({ appId: 'app', customerId: 'cust' }, { id: 'e1', type: 'peer.join.success', data: '{"room_id":"r"}', created_at: '2026-01-02T03:04:05.678Z' });
  assert.deepEqual(env, { version: '2.0', id: 'e1', app_id: 'app', account_id: 'cust', timestamp: '2026-01-02T03:04:05Z', type: 'peer.join.success', data: { room_id: 'r' } });
  // computed independently: printf '1700000000.{"a":1}' | openssl dgst -sha256 -hmac k
  assert.equal(signBody('k', '{"a":1}', 1700000000), 't=1700000000,v1=1b6ad1bc9bf48c52ce01939866d5877c6cc4e87ddad27e16673cb8c4964394a3');
});
