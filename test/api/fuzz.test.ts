// Property-based fuzz of the whole HTTP API from the server's own /openapi.json: no request shape reaches a 5xx,
// every 4xx carries {code, message, details}, and the server stays healthy. FUZZ_SEED=<n>|random, FUZZ_RUNS=<n>.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Agent, request } from 'node:http';
import fc from 'fast-check';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { operationsOf, requestFor, type FuzzRequest, type Operation, type RequestContext } from '../helpers/openapiArbitraries.js';

/** CI runs one fixed seed; FUZZ_SEED=random (or a number) explores locally. */
const FIXED_SEED = 10_2026;
const seed = process.env.FUZZ_SEED === 'random' ? Math.floor(Math.random() * 2 ** 31) : Number(process.env.FUZZ_SEED ?? FIXED_SEED);
const numRuns = Number(process.env.FUZZ_RUNS ?? 1500);
/** FUZZ_COLLECT=1: run every case and list all problems instead of stopping (and shrinking) at the first. */
const collectAll = process.env.FUZZ_COLLECT === '1';

let s: TestServer;
let agent: Agent;
let ctx: RequestContext;
let ops: Operation[];
before(async () => {
  s = await startTestServer();
  agent = new Agent({ keepAlive: true, maxSockets: 1 });
  const roomId = (await s.api('POST', '/v2/rooms', { name: 'fuzz-room' })).body.id;
  const templateId = (await s.api('GET', '/v2/templates')).body.data[0].id;
  const recordingId = (await s.api('POST', `/v2/recordings/room/${roomId}/start`, {})).body.id;
  const code = (await s.api('POST', `/v2/room-codes/room/${roomId}`)).body.data[0].code;
  ctx = {
    known: {
      room_id: [roomId],
      id: [templateId],
      template_id: [templateId],
      role_name: ['host', 'guest', 'viewer'],
      role: ['host', 'guest'],
      recording_id: [recordingId],
      job_id: [recordingId],
      code: [code],
      room_code: [code],
    },
    authorizations: [
      { value: `Bearer ${s.token}`, weight: 12 },
      { value: undefined, weight: 1 },
      { value: 'Bearer not.a.jwt', weight: 1 },
      { value: `Bearer ${await s.appToken(roomId, 'host')}`, weight: 1 },
      { value: `Basic ${Buffer.from('a:b').toString('base64')}`, weight: 1 },
    ],
  };
  ops = operationsOf((await s.api('GET', '/openapi.json')).body);
  // routes hidden from the document that still read client input
  const hidden = (path: string, ...names: string[]): Operation => ({ method: 'GET', path, pathParams: names.map((name) => ({ name, schema: { type: 'string' } })), queryParams: [{ name: 'expires', schema: { type: 'integer' } }, { name: 'sig', schema: { type: 'string' } }] });
  ops.push(hidden('/assets/{key}', 'key'), hidden('/hls/{stream_id}/{key}/{file}', 'stream_id', 'key', 'file'), hidden('/vod/{asset_id}/{expires}/{sig}/{file}', 'asset_id', 'expires', 'sig', 'file'), hidden('/live/room/{room_id}/playback', 'room_id'), hidden('/meeting/{room_code}', 'room_code'));
  ops.push({ method: 'POST', path: '/dashboard/session', pathParams: [], queryParams: [], body: { type: 'object', properties: { access_key: { type: 'string' }, app_secret: { type: 'string' } } } });
});
after(async () => {
  agent?.destroy();
  await s.stop();
});

function send(r: FuzzRequest): Promise<{ status: number; text: string }> {
  const { hostname, port } = new URL(s.url);
  // a body always with its length: Node's client would send a GET's body unframed (and poison the kept-alive socket)
  const headers = r.body === undefined ? r.headers : { ...r.headers, 'content-length': String(Buffer.byteLength(r.body)) };
  return new Promise((resolve, reject) => {
    const req = request({ host: hostname, port, path: r.path, method: r.method, headers, agent }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(r.body);
  });
}

/** What is wrong with this answer, or null. */
function problemWith(r: FuzzRequest, status: number, text: string): string | null {
  const what = `${r.label} [${r.method} ${r.path.slice(0, 120)}${r.body ? ` body ${r.body.slice(0, 120)}` : ''}]`;
  if (status === 599) return `${what} → ${text}`;
  if (status >= 500) return `${what} → ${status} ${text.slice(0, 200)}`;
  if (status >= 400) {
    let err: any;
    try {
      err = JSON.parse(text);
    } catch {
      return `${what} → ${status} not JSON: ${text.slice(0, 120)}`;
    }
    const ok = err && err.code === status && typeof err.message === 'string' && Array.isArray(err.details) && err.details.every((d: unknown) => typeof d === 'string');
    if (!ok) return `${what} → ${status} without {code, message, details}: ${text.slice(0, 160)}`;
  }
  return null;
}

test('fuzzed requests from /openapi.json: no 5xx, every 4xx has the error body, the server stays healthy', async (t) => {
  t.diagnostic(`fuzz seed ${seed} (FUZZ_SEED=${seed} to replay), ${numRuns} runs over ${ops.length} operations`);
  console.log(`fuzz seed ${seed}`);
  const problems = new Map<string, string>();
  const statuses = new Map<number, number>();
  const reached = new Set<string>();
  const arbitrary = fc.constantFrom(...ops).chain((op) => requestFor(op, ctx));
  await fc.assert(
    fc.asyncProperty(arbitrary, async (r) => {
      const res = await send(r).catch((err: Error) => ({ status: 599, text: `no answer: ${err.message}` }));
      statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
      reached.add(r.label);
      const problem = problemWith(r, res.status, res.text);
      if (problem) {
        problems.set(`${r.label} ${res.status} ${res.text.slice(0, 80)}`, problem);
        if (!collectAll) throw new Error(problem);
      }
    }),
    { seed, numRuns, endOnFailure: collectAll },
  );
  t.diagnostic(`statuses: ${JSON.stringify(Object.fromEntries(statuses))}`);
  assert.deepEqual([...problems.values()], []);
  assert.deepEqual(ops.map((op) => `${op.method} ${op.path}`).filter((l) => !reached.has(l)), [], 'operations never called');
  // reached handlers, not just the auth hook and the validator
  assert.ok([...statuses.keys()].some((st) => st >= 200 && st < 300), 'no 2xx at all');
  assert.ok((statuses.get(404) ?? 0) + (statuses.get(409) ?? 0) > 0, 'no handler-level 404/409');
  // still healthy and still serving
  assert.equal((await s.api('GET', '/healthz')).status, 200);
  assert.equal((await s.api('GET', '/v2/rooms')).status, 200);
});
