// The recorder's allowed-hosts matcher: an entry allows one host and one port (a bare host: the scheme's
// default port), never every port of a host; and the API refuses a meeting_url on another port.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { isAllowedUrl, parseHostRule } from '../../src/domain/allowedHosts.js';
import { recorderAllowedHosts } from '../../src/domain/meetingUrl.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

test('matcher: host:port exact, bare host = default port of the scheme, URLs as entries', () => {
  const allowed = ['meet.example.com', 'media.example.com:8443', '127.0.0.1:8080'];
  assert.equal(isAllowedUrl('https://meet.example.com/x', allowed), true);
  assert.equal(isAllowedUrl('http://meet.example.com/x', allowed), true);
  assert.equal(isAllowedUrl('wss://meet.example.com/ws', allowed), true);
  assert.equal(isAllowedUrl('https://meet.example.com:443/x', allowed), true);
  assert.equal(isAllowedUrl('https://meet.example.com:8443/x', allowed), false, 'another port of a bare host');
  assert.equal(isAllowedUrl('http://meet.example.com:443/x', allowed), false, "https's port under http is not http's default");
  assert.equal(isAllowedUrl('http://meet.example.com:6379/', allowed), false);
  assert.equal(isAllowedUrl('https://media.example.com:8443/a', allowed), true);
  assert.equal(isAllowedUrl('https://media.example.com/a', allowed), false);
  assert.equal(isAllowedUrl('http://127.0.0.1:8080/meeting/x', allowed), true);
  assert.equal(isAllowedUrl('http://127.0.0.1:8081/', allowed), false);
  assert.equal(isAllowedUrl('http://127.0.0.1/', allowed), false);
  assert.equal(isAllowedUrl('https://MEET.EXAMPLE.com/', allowed), true);
  assert.equal(isAllowedUrl('https://meet.example.com.evil.net/', allowed), false);
  assert.equal(isAllowedUrl('file:///etc/passwd', allowed), false);
  assert.equal(isAllowedUrl('data:text/html,hi', allowed), true);
  assert.equal(isAllowedUrl('https://meet.example.com/x', ['https://meet.example.com']), true);
  assert.equal(isAllowedUrl('https://meet.example.com:8443/x', ['https://meet.example.com']), false, 'a URL entry names its port too');
  assert.equal(isAllowedUrl('http://[::1]:8080/', ['[::1]:8080']), true);
  assert.equal(isAllowedUrl('http://[::1]:8081/', ['[::1]:8080']), false);
  assert.deepEqual(parseHostRule('Meet.Example.com:80'), { hostname: 'meet.example.com', port: '80' });
  assert.deepEqual(parseHostRule('meet.example.com'), { hostname: 'meet.example.com', port: null });
  assert.throws(() => parseHostRule('not a host'));
  assert.throws(() => parseHostRule('meet.example.com/path'));
});

const servers: TestServer[] = [];
after(async () => {
  for (const s of servers) await s.stop();
});

test('API: a meeting_url on an allowed host but another port is 400; this server host:port is always allowed', async () => {
  const s = await startTestServer({ RECORDER_WORKERS: '0', RECORDER_ALLOWED_HOSTS: 'meet.example.com,media.example.com:8443' });
  servers.push(s);
  const own = new URL(s.url);
  assert.deepEqual(recorderAllowedHosts(s.config).slice(0, 1), [`127.0.0.1:${own.port}`]);
  const room = (await s.api('POST', '/v2/rooms', { name: 'ports' })).body.id;
  const start = (meeting_url: string) => s.api('POST', `/v2/recordings/room/${room}/start`, { meeting_url });
  for (const bad of ['https://meet.example.com:8443/r', 'http://meet.example.com:6379/', 'https://media.example.com/r', `http://127.0.0.1:${Number(own.port) + 1}/`, 'http://localhost:22/', 'http://169.254.169.254/latest']) {
    const r = await start(bad);
    assert.equal(r.status, 400, bad);
    assert.equal(r.body.message, 'meeting_url host not allowed');
    assert.ok(r.body.details.some((d: string) => d.includes('RECORDER_ALLOWED_HOSTS')), JSON.stringify(r.body));
  }
  const live = await s.api('POST', `/v2/live-streams/room/${room}/start`, { meeting_url: 'https://meet.example.com:444/r' });
  assert.equal(live.status, 400);
  const ok = await start('https://media.example.com:8443/r');
  assert.equal(ok.status, 200, JSON.stringify(ok.body));
  const room2 = (await s.api('POST', '/v2/rooms', { name: 'ports-own' })).body.id;
  const own2 = await s.api('POST', `/v2/recordings/room/${room2}/start`, { meeting_url: `${s.url}/preview/${room2}/__internal_recorder?skip_preview=true` });
  assert.equal(own2.status, 200, JSON.stringify(own2.body));
});
