// The dashboard's server side without a browser: static files and their headers, the sign-in route
// (timing-safe check, failure throttle), the storage test route's refusals. The browser flows are in
// test/e2e/dashboard.test.ts.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startTestServer, TEST_KEYS, type TestServer } from '../helpers/server.js';

let s: TestServer;
before(async () => {
  s = await startTestServer({ RECORDER_WORKERS: '0', STORAGE_ALLOW_PRIVATE: 'true' });
});
after(() => s.stop());

test('static files: /dashboard redirects, index and modules are served with a strict CSP; no traversal', async () => {
  const redirect = await fetch(`${s.url}/dashboard`, { redirect: 'manual' });
  assert.equal(redirect.status, 302);
  assert.equal(redirect.headers.get('location'), '/dashboard/');
  const index = await fetch(`${s.url}/dashboard/`);
  assert.equal(index.status, 200);
  assert.match(index.headers.get('content-type') ?? '', /text\/html/);
  const csp = index.headers.get('content-security-policy') ?? '';
  assert.match(csp, /script-src 'self'(;|$)/);
  assert.match(csp, /frame-ancestors 'none'/);
  assert.equal(index.headers.get('x-content-type-options'), 'nosniff');
  const html = await index.text();
  assert.ok(html.includes('/dashboard/js/app.js'));
  assert.ok(!/<script>|\son[a-z]+="/.test(html), 'no inline script or handlers');
  const mod = await fetch(`${s.url}/dashboard/js/pages/room.js`);
  assert.equal(mod.status, 200);
  assert.match(mod.headers.get('content-type') ?? '', /javascript/);
  assert.equal((await fetch(`${s.url}/dashboard/js/nope.js`)).status, 404);
  const climb = await fetch(`${s.url}/dashboard/..%2f..%2f..%2fpackage.json`);
  assert.notEqual(climb.status, 200);
  const hls = await fetch(`${s.url}/dashboard/vendor/hls.light.min.js`, { headers: { 'accept-encoding': 'gzip' } });
  assert.equal(hls.status, 200);
  assert.equal(hls.headers.get('content-encoding'), 'gzip');
  // the dashboard's headers stay on the dashboard's routes
  assert.equal((await s.api('GET', '/v2/rooms')).headers.get('content-security-policy'), null);
  const etag = hls.headers.get('etag')!;
  assert.equal((await fetch(`${s.url}/dashboard/vendor/hls.light.min.js`, { headers: { 'if-none-match': etag } })).status, 304);
});

test('sign-in: the right pair gets a one-hour management token; a wrong one a 401; shape errors a 400', async () => {
  const ok = await s.api('POST', '/dashboard/session', { access_key: TEST_KEYS.accessKey, app_secret: TEST_KEYS.appSecret }, '');
  assert.equal(ok.status, 200);
  assert.equal(ok.body.expires_in, 3600);
  assert.equal(ok.headers.get('cache-control'), 'no-store');
  assert.equal((await s.api('GET', '/v2/rooms', undefined, ok.body.token)).status, 200);
  const claims = JSON.parse(Buffer.from(ok.body.token.split('.')[1], 'base64url').toString());
  assert.equal(claims.type, 'management');
  assert.equal(claims.exp - claims.iat, 3600);

  for (const body of [
    { access_key: TEST_KEYS.accessKey, app_secret: `${TEST_KEYS.appSecret}x` },
    { access_key: 'other', app_secret: TEST_KEYS.appSecret },
  ]) {
    const r = await s.api('POST', '/dashboard/session', body, '');
    assert.equal(r.status, 401);
    assert.deepEqual(r.body, { code: 401, message: 'Invalid credentials', details: ['access key or app secret is wrong'] });
  }
  const extra = await s.api('POST', '/dashboard/session', { access_key: 'a', app_secret: 'b', admin: true }, '');
  assert.equal(extra.status, 400);
  assert.ok(extra.body.details.some((d: string) => d.includes('admin')));
  assert.equal((await s.api('POST', '/dashboard/session', { access_key: '', app_secret: 'b' }, '')).status, 400);
});

test('sign-in throttle: after 10 failures in the window the address gets 429 with Retry-After, even with the right pair', async () => {
  // two failures above; eight more reach the limit
  for (let i = 0; i < 8; i++) {
    assert.equal((await s.api('POST', '/dashboard/session', { access_key: 'x', app_secret: 'y' }, '')).status, 401);
  }
  const locked = await s.api('POST', '/dashboard/session', { access_key: TEST_KEYS.accessKey, app_secret: TEST_KEYS.appSecret }, '');
  assert.equal(locked.status, 429);
  assert.ok(Number(locked.headers.get('retry-after')) > 0);
  assert.equal(locked.body.token, undefined);
});

test('storage test route: management token required; unknown template 404; no own bucket 400; bad body 400', async () => {
  assert.equal((await s.api('POST', '/dashboard/storage-test', { template_id: 'x' }, '')).status, 401);
  const app = await s.appToken('aaaaaaaaaaaaaaaaaaaaaaaa', 'host');
  assert.equal((await s.api('POST', '/dashboard/storage-test', { template_id: 'x' }, app)).status, 403);
  assert.equal((await s.api('POST', '/dashboard/storage-test', { template_id: 'aaaaaaaaaaaaaaaaaaaaaaaa' })).status, 404);
  const t = (await s.api('POST', '/v2/templates', { name: 'no-bucket' })).body;
  const none = await s.api('POST', '/dashboard/storage-test', { template_id: t.id });
  assert.equal(none.status, 400);
  assert.equal(none.body.message, 'No storage configured');
  assert.equal((await s.api('POST', '/dashboard/storage-test', { template_id: '../x' })).status, 400);
  assert.equal((await s.api('POST', '/dashboard/storage-test', {})).status, 400);

  // a store that refuses the connection: the result names the stage and the store's error, never the secret
  const secret = 'dashboard-test-secret-987654';
  await s.api('POST', `/v2/templates/${t.id}/settings`, {
    recording: { upload: { type: 's3', location: 'b', options: { region: 'us-east-1', endpoint: 'http://127.0.0.1:9' }, credentials: { key: 'k', secretKey: secret } } },
  });
  const refused = await s.api('POST', '/dashboard/storage-test', { template_id: t.id });
  assert.equal(refused.status, 200);
  assert.equal(refused.body.ok, false);
  assert.equal(refused.body.stage, 'write');
  assert.match(refused.body.error, /ECONNREFUSED|connect/i);
  assert.match(refused.body.key, /^[0-9a-f]{24}\/roomcast-storage-test\/[0-9a-f-]{36}\.txt$/);
  assert.ok(!JSON.stringify(refused.body).includes(secret));
});
