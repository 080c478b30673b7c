// Nothing from user input reaches a 500: every documented route, called with malformed path parameters,
// query strings and bodies, answers a 4xx with the {code, message, details} body (or a 2xx).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startTestServer, type TestServer } from '../helpers/server.js';

let s: TestServer;
let roomId: string;
let templateId: string;
before(async () => {
  s = await startTestServer();
  roomId = (await s.api('POST', '/v2/rooms', { name: 'fuzz-room' })).body.id;
  templateId = (await s.api('GET', '/v2/templates')).body.data[0].id;
});
after(() => s.stop());

const junkIds = ['x', 'aaaaaaaaaaaaaaaaaaaaaaaa', '%00', '..%2F..%2Fetc', 'a'.repeat(300), '%F0%9F%98%80', '-1'];
const junkBodies: unknown[] = [
  {},
  [],
  null,
  'text',
  42,
  { name: 12, enabled: 'yes', limit: -5 },
  { resolution: { width: 'wide', height: null } },
  { resolution: { width: 1e12, height: -1 } },
  { meeting_url: 'not a url', recording: 'yes', destination: {} },
  { payload: 'x'.repeat(1000), duration: -3 },
  { code: ['a'], enabled: 1 },
  { roles: { host: { publishParams: { allowed: ['smell'] } } } },
  { settings: { recording: { upload: { type: 'ftp', location: 5 } } } },
  { description: '\u0000nul', name: 'ok-name' },
  { url: 'http://[::1', headers: 'no' },
  { event_ids: 'all' },
  { a: { b: { c: { d: { e: { f: {} } } } } } },
];
const junkQueries = ['?limit=abc', '?limit=0', '?start=%00', '?enabled=maybe', '?after=yesterday', '?status=weird', '?page=-1&limit=1000', '?presign_duration=1e99', '?room_id[]=x&room_id=y'];

function fill(path: string, value: string): string {
  return path.replace(/\{[^}]+\}/g, value);
}

test('no route answers 500 to malformed input', async () => {
  const spec = (await s.api('GET', '/openapi.json')).body;
  const problems: string[] = [];
  let calls = 0;
  for (const [path, methods] of Object.entries<Record<string, unknown>>(spec.paths)) {
    for (const method of Object.keys(methods)) {
      const M = method.toUpperCase();
      const real = path.replace('{room_id}', roomId).replace('{template_id}', templateId).replace('{id}', templateId);
      const call = async (target: string, q: string, body: unknown) => {
        calls++;
        const res = await fetch(s.url + target + q, {
          method: M,
          headers: { authorization: `Bearer ${s.token}`, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
          body: body === undefined ? undefined : JSON.stringify(body),
        });
        const text = await res.text();
        if (res.status >= 500) problems.push(`${M} ${target.slice(0, 80)}${q} ${JSON.stringify(body)} → ${res.status} ${text.slice(0, 160)}`);
        else if (res.status >= 400 && !text.includes('"details"')) problems.push(`${M} ${target.slice(0, 80)}${q} → ${res.status} without {code,message,details}: ${text.slice(0, 160)}`);
      };
      const plain = M === 'GET' || M === 'DELETE' ? undefined : {};
      // junk ids and query strings
      for (const target of [...junkIds.map((id) => fill(path, id)), fill(real, 'x')]) {
        for (const q of ['', ...junkQueries]) await call(target, q, plain);
      }
      // junk bodies on a real and an unknown resource
      if (plain !== undefined) for (const target of [fill(real, 'x'), fill(path, 'aaaaaaaaaaaaaaaaaaaaaaaa')]) for (const b of junkBodies) await call(target, '', b);
    }
  }
  assert.ok(calls > 1000, `only ${calls} calls made`);
  assert.deepEqual([...new Set(problems)].slice(0, 15), [], `${problems.length} problems`);
});
