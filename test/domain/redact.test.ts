// redactSecrets: tokens and secret query values leave error text, the rest of the message stays readable.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { redactSecrets, redactedError } from '../../src/redact.js';
import { signAppToken } from '../../src/auth/tokens.js';
import { TEST_KEYS } from '../helpers/server.js';

test('a Chromium navigation error keeps its reason and URL but loses the auth_token', async () => {
  const jwt = await signAppToken(TEST_KEYS, { room_id: 'r1', role: '__internal_recorder', user_id: 'beam-1' });
  const msg = `page.goto: net::ERR_CONNECTION_REFUSED at http://127.0.0.1:9/preview/r1/__internal_recorder?skip_preview=true&auth_token=${jwt}\nCall log:\n  - navigating to "http://127.0.0.1:9/preview/r1/__internal_recorder?skip_preview=true&auth_token=${jwt}", waiting until "domcontentloaded"`;
  const out = redactSecrets(msg);
  assert.ok(!out.includes(jwt), out);
  assert.ok(!out.includes(jwt.split('.')[1]), 'no part of the token either');
  assert.match(out, /net::ERR_CONNECTION_REFUSED at http:\/\/127\.0\.0\.1:9\/preview\/r1\/__internal_recorder\?skip_preview=true&auth_token=\[redacted\]/);
  assert.match(out, /waiting until "domcontentloaded"/);
});

test('JWTs anywhere, secret-named parameters, signed-URL parameters, long query values, bearer tokens', () => {
  const jwt = 'eyJhbGciOiJIUzI1NiJ9.eyJyb29tX2lkIjoiciJ9.c2lnbmF0dXJlLWJ5dGVz';
  assert.equal(redactSecrets(`token ${jwt} refused`), 'token [redacted] refused');
  assert.equal(redactSecrets('https://h/x?token=abc&room=r1'), 'https://h/x?token=[redacted]&room=r1');
  assert.equal(redactSecrets('https://b.s3/k?X-Amz-Credential=AK%2F1&X-Amz-Signature=ffee&x=1'), 'https://b.s3/k?X-Amz-Credential=[redacted]&X-Amz-Signature=[redacted]&x=1');
  assert.equal(redactSecrets('/assets/k?expires=1&sig=abcDEF'), '/assets/k?expires=1&sig=[redacted]');
  assert.equal(redactSecrets('client_secret=s3cr3t and password=hunter2;'), 'client_secret=[redacted] and password=[redacted];');
  assert.equal(redactSecrets('{"secretKey": "abc", "name": "x"}'), '{"secretKey": "[redacted]", "name": "x"}');
  assert.equal(redactSecrets('https://h/p?v=AbCdEfGhIjKlMnOpQrStUvWxYz012345&n=2'), 'https://h/p?v=[redacted]&n=2');
  assert.equal(redactSecrets('Authorization: Bearer abc.def-ghi'), 'Authorization: Bearer [redacted]');
});

test('ordinary diagnostics are left alone', () => {
  for (const text of [
    'encoder exited (SIGKILL): [aac @ 0x5] code=1 frame=  120 fps=30',
    'recorder could not join the meeting after 3 attempts: page.waitForSelector: Timeout 10000ms exceeded.',
    'http://127.0.0.1:8080/preview/65f0a1b2c3d4e5f6a7b8c9d0/host?skip_preview=true',
    'NoSuchBucket (HTTP 404): The specified bucket does not exist',
  ]) {
    assert.equal(redactSecrets(text), text);
  }
});

test('redactedError cleans message and stack', () => {
  const err = new Error('failed at http://x/?auth_token=eyJabcdefgh.eyJijklmnop.qrstuvwxyz');
  const e = redactedError(err);
  assert.equal(e.message, 'failed at http://x/?auth_token=[redacted]');
  assert.ok(e.stack && !e.stack.includes('eyJ'));
});
