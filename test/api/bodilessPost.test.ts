// The seeds' own bodiless requests work verbatim: `Content-Type: application/json` with no body (seed 000's stop
// curl, sent by real curl), `{}`, and a charset parameter, on every POST route whose body is absent or all-optional.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { startTestServer, type TestServer } from '../helpers/server.js';

const run = promisify(execFile);
let s: TestServer;
before(async () => {
  s = await startTestServer();
});
after(() => s.stop());

/** One raw request through node:http, so the headers are exactly these and the body exactly this (or none). */
function send(method: string, path: string, headers: Record<string, string>, body?: string): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const req = request(s.url + path, { method, headers }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (text += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

test("seed 000's stop curl, byte for byte, stops the room's recording", async () => {
  const roomId = (await s.api('POST', '/v2/rooms', { name: 'seed-stop-room' })).body.id;
  const started = await s.api('POST', `/v2/recordings/room/${roomId}/start`, { resolution: { width: 1280, height: 720 } });
  assert.equal(started.status, 200, JSON.stringify(started.body));
  // the seed's command line; -s and -w only change what curl prints, not what it sends
  const { stdout } = await run('curl', [
    '--request', 'POST', `${s.url}/v2/recordings/room/${roomId}/stop`,
    '--header', 'Content-Type: application/json',
    '--header', `Authorization: Bearer ${s.token}`,
    '-s', '-w', '\n%{http_code}',
  ]);
  const [text, status] = [stdout.slice(0, stdout.lastIndexOf('\n')), stdout.slice(stdout.lastIndexOf('\n') + 1)];
  assert.equal(status, '200', text);
  const body = JSON.parse(text);
  assert.equal(body.data[0].id, started.body.id);
  // and it really stopped: a second stop finds nothing running
  assert.equal((await s.api('POST', `/v2/recordings/room/${roomId}/stop`)).status, 404);
});

test('every bodiless POST route accepts no body, an empty JSON body, {} and a charset parameter', async () => {
  const spec = (await s.api('GET', '/openapi.json')).body;
  const roomId = (await s.api('POST', '/v2/rooms', { name: 'bodiless-room' })).body.id;
  const rec = (await s.api('POST', `/v2/recordings/room/${roomId}/start`, {})).body;
  const live = (await s.api('POST', `/v2/live-streams/room/${roomId}/start`, {})).body;
  const ids: Record<string, string> = { room_id: roomId, recording_id: rec.id, stream_id: live.id ?? 'aaaaaaaaaaaaaaaaaaaaaaaa', role: 'host' };

  const routes: string[] = [];
  for (const [path, methods] of Object.entries<Record<string, any>>(spec.paths)) {
    const op = methods.post;
    if (!op) continue;
    const schema = op.requestBody?.content?.['application/json']?.schema;
    if (schema && (schema.type !== 'object' || (schema.required ?? []).length > 0)) continue; // a body is needed
    routes.push(path);
  }
  // the ones the issue names, at least
  for (const must of ['/v2/recordings/room/{room_id}/stop', '/v2/recordings/{recording_id}/stop', '/v2/recordings/room/{room_id}/pause', '/v2/room-codes/room/{room_id}', '/v2/live-streams/room/{room_id}/stop', '/v2/recordings/room/{room_id}/start', '/v2/rooms']) {
    assert.ok(routes.includes(must), `${must} not among the bodiless POST routes: ${routes.join(', ')}`);
  }

  const shapes: Array<[string, Record<string, string>, string | undefined]> = [
    ['json content type, no body', { 'content-type': 'application/json' }, undefined],
    ['json content type, empty body', { 'content-type': 'application/json', 'content-length': '0' }, ''],
    ['charset, no body', { 'content-type': 'application/json; charset=utf-8' }, undefined],
    ['{}', { 'content-type': 'application/json' }, '{}'],
    ['charset, {}', { 'content-type': 'application/json; charset=utf-8' }, '{}'],
    ['no content type, no body', {}, undefined],
  ];
  const problems: string[] = [];
  let reachedHandler = 0;
  for (const path of routes) {
    const target = path.replace(/\{([^}]+)\}/g, (_m, name: string) => ids[name] ?? 'aaaaaaaaaaaaaaaaaaaaaaaa');
    for (const [label, headers, body] of shapes) {
      // /v2/rooms creates a room from an all-optional body: one name per call
      const res = await send('POST', target, { authorization: `Bearer ${s.token}`, ...headers }, body);
      const where = `POST ${path} (${label}) → ${res.status} ${res.text.slice(0, 160)}`;
      if (res.status >= 500 || res.status === 415) problems.push(where);
      else if (res.status >= 400) {
        const err = JSON.parse(res.text);
        if (typeof err.code !== 'number' || !Array.isArray(err.details)) problems.push(`${where}: no error body`);
        else if (/FST_ERR_CTP|^body\b/.test(err.details.join(' ')) || /body/i.test(err.message)) problems.push(`${where}: refused the body shape`);
      } else reachedHandler++;
    }
  }
  assert.deepEqual(problems, []);
  assert.ok(routes.length >= 10, `only ${routes.length} bodiless POST routes found`);
  // room codes and room creation succeed for every shape; the stop routes succeed at least once
  assert.ok(reachedHandler >= 3 * shapes.length, `only ${reachedHandler} 2xx answers`);
});
