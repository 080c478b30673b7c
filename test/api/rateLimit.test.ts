// Throttling of the public credential endpoints per client address: POST /v2/token and the dashboard
// sign-in answer 429 {code, message, details} with Retry-After; X-Forwarded-For counts only with TRUST_PROXY.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { startTestServer, TEST_KEYS, type TestServer } from '../helpers/server.js';
import { TokenBuckets } from '../../src/api/rateLimit.js';
import { TOKEN_RATE } from '../../src/api/token.js';
import { SIGN_IN_RATE } from '../../src/api/dashboard.js';

const servers: TestServer[] = [];
after(async () => {
  for (const s of servers) await s.stop();
});

async function exchange(s: TestServer, code: string, forwardedFor?: string) {
  const res = await fetch(`${s.url}/v2/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(forwardedFor ? { 'x-forwarded-for': forwardedFor } : {}) },
    body: JSON.stringify({ code }),
  });
  return { status: res.status, retryAfter: res.headers.get('retry-after'), body: (await res.json()) as any };
}

test('token buckets: a burst of capacity, then the refill rate; Retry-After says when the next token comes', () => {
  const b = new TokenBuckets({ capacity: 3, refillPerMinute: 6 }); // one token every 10 s
  const t0 = 1_000_000;
  assert.deepEqual([b.take('a', t0), b.take('a', t0), b.take('a', t0)], [0, 0, 0]);
  assert.equal(b.take('a', t0), 10);
  assert.equal(b.take('b', t0), 0, 'another address has its own bucket');
  assert.equal(b.take('a', t0 + 4_000), 6);
  assert.equal(b.take('a', t0 + 10_000), 0);
  assert.equal(b.take('a', t0 + 10_000), 10);
  b.reset('a');
  assert.equal(b.take('a', t0 + 10_000), 0);
  // memory stays bounded: old addresses go when the map is full
  const small = new TokenBuckets({ capacity: 1, refillPerMinute: 1, maxKeys: 100 });
  for (let i = 0; i < 1000; i++) small.take(`k${i}`, t0);
  assert.ok(small.size <= 100, String(small.size));
  assert.equal(small.take('k999', t0) > 0, true, 'the newest entries are kept');
});

test('POST /v2/token: after the burst the same address gets 429 with Retry-After; a spoofed X-Forwarded-For does not help', async () => {
  const s = await startTestServer({ RECORDER_WORKERS: '0' });
  servers.push(s);
  // the burst and then some, at once (a bucket refills one token per 2 s: ten spare requests cover a slow machine)
  const burst = await Promise.all(Array.from({ length: TOKEN_RATE.capacity + 10 }, (_, i) => exchange(s, 'nop-nope-nop', `203.0.113.${i}`)));
  const statuses = burst.map((r) => r.status);
  assert.ok(statuses.filter((x) => x === 404).length >= TOKEN_RATE.capacity, statuses.join());
  assert.ok(statuses.every((x) => x === 404 || x === 429), statuses.join());
  const limited = burst.find((r) => r.status === 429);
  assert.ok(limited, 'some requests were refused');
  assert.equal(limited.body.code, 429);
  assert.equal(typeof limited.body.message, 'string');
  assert.ok(Array.isArray(limited.body.details) && limited.body.details.length > 0);
  assert.ok(Number(limited.retryAfter) >= 1, String(limited.retryAfter));
});

test('TRUST_PROXY=true: the client address comes from X-Forwarded-For, each client has its own budget', async () => {
  const s = await startTestServer({ RECORDER_WORKERS: '0', TRUST_PROXY: 'true' });
  servers.push(s);
  const burst = await Promise.all(Array.from({ length: TOKEN_RATE.capacity + 10 }, () => exchange(s, 'nop-nope-nop', '203.0.113.9')));
  assert.ok(burst.some((r) => r.status === 429), burst.map((r) => r.status).join());
  assert.equal((await exchange(s, 'nop-nope-nop', '203.0.113.10')).status, 404, 'another client behind the proxy');
  // the dashboard sign-in keys on the same address
  // failures beyond the burst (one token per 30 s comes back: two spare)
  const failures = await Promise.all(
    Array.from({ length: SIGN_IN_RATE.capacity + 2 }, () =>
      fetch(`${s.url}/dashboard/session`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-forwarded-for': '203.0.113.20' }, body: JSON.stringify({ access_key: 'x', app_secret: 'y' }) }).then((r) => r.status),
    ),
  );
  assert.ok(failures.every((x) => x === 401 || x === 429), failures.join());
  const locked = await fetch(`${s.url}/dashboard/session`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-forwarded-for': '203.0.113.20' }, body: JSON.stringify({ access_key: TEST_KEYS.accessKey, app_secret: TEST_KEYS.appSecret }) });
  assert.equal(locked.status, 429);
  assert.ok(Number(locked.headers.get('retry-after')) >= 1);
  const body = (await locked.json()) as any;
  assert.deepEqual(Object.keys(body).sort(), ['code', 'details', 'message']);
  const other = await fetch(`${s.url}/dashboard/session`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-forwarded-for': '203.0.113.21' }, body: JSON.stringify({ access_key: TEST_KEYS.accessKey, app_secret: TEST_KEYS.appSecret }) });
  assert.equal(other.status, 200);
});
