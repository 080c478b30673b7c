// Input the fuzz may only rarely draw, pinned: odd numbers on every list route, malformed percent-encoding,
// control characters and overlong request lines straight on the socket: each a 4xx with {code, message, details}.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { startTestServer, type TestServer } from '../helpers/server.js';

let s: TestServer;
before(async () => {
  s = await startTestServer();
});
after(() => s.stop());

function assertErrorBody(status: number, body: any, what: string): void {
  assert.ok(status >= 400 && status < 500, `${what} → ${status} ${JSON.stringify(body)}`);
  assert.equal(body?.code, status, `${what}: ${JSON.stringify(body)}`);
  assert.equal(typeof body.message, 'string', what);
  assert.ok(Array.isArray(body.details) && body.details.length > 0, `${what}: ${JSON.stringify(body)}`);
}

/** Bytes straight onto a TCP socket (what an HTTP client library would refuse to send); the whole answer back. */
function rawExchange(bytes: string): Promise<{ status: number; body: any }> {
  const { hostname, port } = new URL(s.url);
  return new Promise((resolve, reject) => {
    const sock = connect(Number(port), hostname, () => sock.end(bytes, 'latin1'));
    let text = '';
    sock.setEncoding('latin1');
    sock.on('data', (c: string) => (text += c));
    sock.on('error', reject);
    sock.on('close', () => {
      const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(text)?.[1] ?? 0);
      const raw = text.slice(text.indexOf('\r\n\r\n') + 4);
      let body: unknown = raw;
      try {
        body = JSON.parse(raw);
      } catch {
        /* asserted below */
      }
      resolve({ status, body });
    });
  });
}

test('odd numbers in the query of every list route: 400 naming the field', async () => {
  const spec = (await s.api('GET', '/openapi.json')).body;
  const lists = Object.entries<Record<string, any>>(spec.paths).filter(([path, m]) => !path.includes('{') && m.get?.parameters?.some((p: any) => p.name === 'limit'));
  assert.ok(lists.length >= 7, `only ${lists.length} list routes`);
  for (const [path] of lists) {
    for (const odd of ['1e309', '-1e309', 'Infinity', 'NaN', '-0', '9007199254740993', '1e21', '']) {
      const res = await s.api('GET', `${path}?limit=${encodeURIComponent(odd)}`);
      assertErrorBody(res.status, res.body, `GET ${path}?limit=${odd}`);
      assert.match(res.body.details.join(' '), /querystring\/limit/, `GET ${path}?limit=${odd}: ${JSON.stringify(res.body)}`);
    }
  }
});

test('unsafe numbers in JSON bodies: 400 naming the field', async () => {
  const roomId = (await s.api('POST', '/v2/rooms', { name: 'numbers-room' })).body.id;
  const templateId = (await s.api('GET', '/v2/templates')).body.data[0].id;
  const post = async (path: string, text: string) => {
    const res = await fetch(s.url + path, { method: 'POST', headers: { authorization: `Bearer ${s.token}`, 'content-type': 'application/json' }, body: text });
    return { status: res.status, body: await res.json() };
  };
  // thumbnail offsets have no upper bound in the schema: 2^53+1 would be stored as 2^53
  const offsets = '[{"name":"rec","role":"host","thumbnails":{"offsets":[9007199254740993]}}]';
  const bad = await post(`/v2/templates/${templateId}/recordings`, offsets);
  assertErrorBody(bad.status, bad.body, offsets);
  assert.match(bad.body.details.join(' '), /body\/0\/thumbnails\/offsets\/0/, JSON.stringify(bad.body));
  const fine = await post(`/v2/templates/${templateId}/recordings`, offsets.replace('9007199254740993', '30'));
  assert.equal(fine.status, 200, JSON.stringify(fine.body));
  for (const text of ['{"resolution":{"width":9007199254740993,"height":720}}', '{"resolution":{"width":1e309,"height":720}}', '{"resolution":{"width":-0,"height":720}}']) {
    const res = await post(`/v2/recordings/room/${roomId}/start`, text);
    assertErrorBody(res.status, res.body, text);
    assert.match(res.body.details.join(' '), /body\/resolution\/width/, text);
  }
});

test('malformed percent-encoding: 400, never a 500', async () => {
  for (const path of ['/assets/%25E0', '/assets/%E0', '/v2/rooms/%E0', '/v2/rooms/%', '/v2/rooms?limit=%', '/hls/%25E0/%25/x.m3u8', '/meeting/%C0%AE']) {
    const res = await s.api('GET', path);
    assertErrorBody(res.status, res.body, `GET ${path}`);
  }
});

test('control characters and overlong request lines on the socket: the API error body', async () => {
  const auth = `Authorization: Bearer ${s.token}\r\n`;
  const cases: Array<[string, string]> = [
    ['NUL in the path', `GET /v2/rooms/a\u0000b HTTP/1.1\r\nHost: x\r\n${auth}\r\n`],
    ['tab in the path', `GET /v2/rooms/a\tb HTTP/1.1\r\nHost: x\r\n${auth}\r\n`],
    ['DEL in the path', `GET /v2/rooms/a\u007fb HTTP/1.1\r\nHost: x\r\n${auth}\r\n`],
    ['bare LF line ends', `GET /v2/rooms HTTP/1.1\nHost: x\n\u0001: y\n\n`],
    ['100 kB path', `GET /v2/rooms/${'a'.repeat(100_000)} HTTP/1.1\r\nHost: x\r\n${auth}\r\n`],
    ['20 kB query', `GET /v2/rooms?start=${'a'.repeat(20_000)} HTTP/1.1\r\nHost: x\r\n${auth}\r\n`],
    ['a 2 kB path segment', `GET /v2/rooms/${'a'.repeat(2_000)} HTTP/1.1\r\nHost: x\r\n${auth}\r\n`],
  ];
  for (const [what, bytes] of cases) {
    const res = await rawExchange(bytes);
    assertErrorBody(res.status, res.body, what);
  }
  // and the server still answers
  assert.equal((await s.api('GET', '/healthz')).status, 200);
});
