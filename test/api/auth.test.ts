import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { SignJWT } from 'jose';
import { startTestServer, TEST_KEYS, type TestServer } from '../helpers/server.js';

let s: TestServer;
before(async () => {
  s = await startTestServer();
});
after(() => s.stop());

async function craft(claims: Record<string, unknown>, secret = TEST_KEYS.appSecret, alg = 'HS256') {
  const now = Math.floor(Date.now() / 1000);
  return new SignJWT({ access_key: TEST_KEYS.accessKey, type: 'management', version: 2, jti: 'x', iat: now, nbf: now, exp: now + 600, ...claims })
    .setProtectedHeader({ alg })
    .sign(new TextEncoder().encode(secret));
}

function assertErrorBody(body: any, code: number) {
  assert.equal(body.code, code);
  assert.equal(typeof body.message, 'string');
  assert.ok(Array.isArray(body.details) && body.details.length > 0, 'details lists the reason');
}

test('a valid management token passes', async () => {
  const r = await s.api('GET', '/v2/rooms');
  assert.equal(r.status, 200);
  assert.deepEqual(r.body.data, []);
});

test('missing Authorization header → 401', async () => {
  const r = await s.api('GET', '/v2/rooms', undefined, '');
  assert.equal(r.status, 401);
  assertErrorBody(r.body, 401);
});

test('a token signed with another secret → 401', async () => {
  const r = await s.api('GET', '/v2/rooms', undefined, await craft({}, 'wrong-secret-wrong-secret'));
  assert.equal(r.status, 401);
  assertErrorBody(r.body, 401);
  assert.match(r.body.details[0], /signature/);
});

test('an expired token → 401', async () => {
  const now = Math.floor(Date.now() / 1000);
  const r = await s.api('GET', '/v2/rooms', undefined, await craft({ iat: now - 7200, nbf: now - 7200, exp: now - 3600 }));
  assert.equal(r.status, 401);
  assert.match(r.body.details[0], /expired/);
});

test('a token whose nbf is in the future → 401; within the clock-skew allowance it passes', async () => {
  const now = Math.floor(Date.now() / 1000);
  const future = await s.api('GET', '/v2/rooms', undefined, await craft({ nbf: now + 600, iat: now }));
  assert.equal(future.status, 401);
  assert.match(future.body.details[0], /not yet valid/);
  const skewed = await s.api('GET', '/v2/rooms', undefined, await craft({ nbf: now + 5, iat: now }));
  assert.equal(skewed.status, 200);
});

test('an app token on a management route → 403', async () => {
  const r = await s.api('GET', '/v2/rooms', undefined, await s.appToken('000000000000000000000000', 'host'));
  assert.equal(r.status, 403);
  assertErrorBody(r.body, 403);
});

test('wrong access_key, wrong version, unknown type, alg none → 401', async () => {
  for (const claims of [{ access_key: 'someone-else' }, { version: 1 }, { type: 'superuser' }]) {
    const r = await s.api('GET', '/v2/rooms', undefined, await craft(claims));
    assert.equal(r.status, 401, JSON.stringify(claims));
  }
  const unsigned = Buffer.from(JSON.stringify({ alg: 'none' })).toString('base64url') + '.' +
    Buffer.from(JSON.stringify({ access_key: TEST_KEYS.accessKey, type: 'management', version: 2 })).toString('base64url') + '.';
  assert.equal((await s.api('GET', '/v2/rooms', undefined, unsigned)).status, 401);
  assert.equal((await s.api('GET', '/v2/rooms', undefined, 'garbage')).status, 401);
});

test('health, OpenAPI and docs need no token', async () => {
  assert.equal((await s.api('GET', '/healthz', undefined, '')).status, 200);
  const spec = await s.api('GET', '/openapi.json', undefined, '');
  assert.equal(spec.status, 200);
  assert.ok(spec.body.paths['/v2/rooms'], 'rooms documented');
  assert.ok(spec.body.paths['/v2/rooms'].post.requestBody, 'request schema documented');
  const docs = await fetch(s.url + '/docs/');
  assert.equal(docs.status, 200);
  assert.match(await docs.text(), /swagger/i);
});
