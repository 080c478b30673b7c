// One set of store scenarios, run against both backends: SQLite (embedded default) and PostgreSQL
// (a throwaway server started by this file). A missing PostgreSQL install fails the postgres suite.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'kysely';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { startPostgres, type TestPostgres } from '../helpers/postgres.js';
import { migrations } from '../../src/store/migrations.js';
import { getTemplateByName, insertTemplate } from '../../src/store/templates.js';
import { resolveRoomCode } from '../../src/store/roomCodes.js';
import { DEFAULT_TEMPLATE_NAME } from '../../src/model/templates.js';
import { defaultTemplateBody } from '../../src/domain/templateDefaults.js';
import { setClockOffset } from '../../src/clock.js';
import type { Db } from '../../src/store/db.js';

const backends = ['sqlite', 'postgres'] as const;

async function migrationNames(db: Db): Promise<string[]> {
  const r = await sql<{ name: string }>`select name from kysely_migration order by name`.execute(db);
  return r.rows.map((x) => x.name);
}

async function countTemplates(db: Db, name: string): Promise<unknown> {
  const r = await db.selectFrom('templates').select((eb) => eb.fn.countAll().as('n')).where('name', '=', name).executeTakeFirstOrThrow();
  return r.n;
}

for (const backend of backends) {
  describe(`store on ${backend}`, () => {
    let pg: TestPostgres | undefined;
    let dataDir: string;
    let env: Record<string, string>;
    let s: TestServer | undefined;
    let setupError: Error | undefined;
    const scenario = (name: string, fn: () => Promise<void>) =>
      test(name, async () => {
        if (setupError) throw setupError;
        await fn();
      });

    before(async () => {
      dataDir = mkdtempSync(join(tmpdir(), `roomcast-store-${backend}-`));
      if (backend === 'postgres') {
        // A missing or broken PostgreSQL must FAIL every postgres scenario with its message (a throwing
        // `before` would only count them as cancelled).
        try {
          pg = await startPostgres();
          env = { DATABASE_URL: pg.url };
        } catch (err) {
          setupError = err as Error;
        }
      } else {
        // '' overrides TEST_DATABASE_URL: this suite is the SQLite one
        env = { DATABASE_URL: '' };
      }
    });
    after(async () => {
      await s?.stop();
      await pg?.stop();
      rmSync(dataDir, { recursive: true, force: true });
    });

    scenario('migrations run at the first start and are idempotent on a second start', async () => {
      const first = await startTestServer(env, dataDir);
      assert.equal(first.services.store.kind, backend);
      const expected = Object.keys(migrations(backend)).sort();
      try {
        assert.deepEqual(await migrationNames(first.services.store.db), expected);
        // every table of the schema exists and answers
        for (const table of ['templates', 'rooms', 'room_codes', 'sessions', 'peers', 'events', 'job_queue'] as const) {
          await first.services.store.db.selectFrom(table).selectAll().limit(1).execute();
        }
      } finally {
        await first.stop();
      }
      s = await startTestServer(env, dataDir);
      assert.deepEqual(await migrationNames(s.services.store.db), expected);
    });

    scenario('the default template exists exactly once after two starts; counts come back as numbers', async () => {
      assert.ok(s);
      const n = await countTemplates(s.services.store.db, DEFAULT_TEMPLATE_NAME);
      // pg returns COUNT (int8) as a string unless parsed: both backends must give the number 1
      assert.equal(n, 1);
      const t = await getTemplateByName(s.services.store.db, DEFAULT_TEMPLATE_NAME);
      assert.ok(t && t.roles.host && Array.isArray(t.recordings));
    });

    scenario('rooms: create, get, list and paginate through the HTTP API', async () => {
      assert.ok(s);
      const made: string[] = [];
      for (let i = 0; i < 12; i++) {
        const r: { status: number; body: any } = await s.api('POST', '/v2/rooms', { name: `store-${backend}-${i}`, size: i, large_room: i % 2 === 0 });
        assert.equal(r.status, 200, JSON.stringify(r.body));
        made.push(r.body.id);
      }
      const one = await s.api('GET', `/v2/rooms/${made[3]}`);
      assert.equal(one.body.size, 3);
      assert.equal(one.body.large_room, false);
      assert.equal(one.body.enabled, true);
      assert.equal((await s.api('GET', `/v2/rooms/${made[4]}`)).body.large_room, true);
      // same name, other case: the same room
      assert.equal((await s.api('POST', '/v2/rooms', { name: `STORE-${backend}-0` })).body.id, made[0]);
      assert.equal((await s.api('POST', `/v2/rooms/${made[1]}`, { enabled: false })).body.enabled, false);

      const seen: string[] = [];
      let start = '';
      for (let pages = 0; pages < 5; pages++) {
        const r: { status: number; body: any } = await s.api('GET', `/v2/rooms?limit=10${start ? `&start=${start}` : ''}`);
        assert.equal(r.status, 200);
        if (r.body.data.length === 0) break;
        seen.push(...r.body.data.map((x: any) => x.id));
        start = r.body.last;
      }
      assert.deepEqual(seen, made.filter((id) => id !== made[1]).reverse());
      const disabled = await s.api('GET', '/v2/rooms?enabled=false');
      assert.deepEqual(disabled.body.data.map((x: any) => x.id), [made[1]]);
    });

    scenario('text with a NUL character is refused the same way on both backends (400, nothing stored)', async () => {
      assert.ok(s);
      // PostgreSQL cannot store U+0000 in text; SQLite could: the store refuses it on both
      const made = await s.api('POST', '/v2/rooms', { name: `nul-${backend}`, description: 'a\u0000b' });
      assert.equal(made.status, 400, JSON.stringify(made.body));
      assert.equal(made.body.code, 400);
      assert.equal((await s.api('GET', `/v2/rooms?name=nul-${backend}`)).body.data.length, 0);
      const filter = await s.api('GET', '/v2/rooms?name=%00');
      assert.equal(filter.status, 400);
      // JSON columns escape it and keep it
      const hook = await s.api('POST', '/v2/rooms', { name: `nul-json-${backend}`, webhook: { url: 'https://example.com/h', headers: { k: 'v\u0000' } } });
      assert.equal(hook.status, 200, JSON.stringify(hook.body));
      // (header values are shown masked: the stored row has the value)
      const row = await s.services.store.db.selectFrom('rooms').select('webhook').where('id', '=', hook.body.id).executeTakeFirstOrThrow();
      assert.equal(JSON.parse(row.webhook!).headers.k, 'v\u0000');
    });

    scenario('events keep insert order; seq and data come back typed', async () => {
      assert.ok(s);
      const types = ['session.open.success', 'peer.join.success', 'peer.leave.success', 'session.close.success'];
      const emitted = [];
      for (const [i, type] of types.entries()) emitted.push(await s.services.events.emit(type, 'room-x', { i, ok: true }));
      for (const e of emitted) assert.equal(typeof e.seq, 'number');
      for (let i = 1; i < emitted.length; i++) assert.ok(emitted[i].seq > emitted[i - 1].seq);
      const listed = await s.services.events.list({ roomId: 'room-x' });
      assert.deepEqual(listed.map((e) => e.type), types);
      assert.deepEqual(listed.map((e) => e.seq), emitted.map((e) => e.seq));
      assert.deepEqual(listed[2].data, { i: 2, ok: true });
      const later = await s.services.events.list({ afterSeq: emitted[1].seq });
      assert.deepEqual(later.map((e) => e.type), types.slice(2));
    });

    scenario('job queue: two workers never claim the same job; heartbeat; stale claims are requeued', async () => {
      assert.ok(s);
      const q = s.services.queue;
      const jobIds = Array.from({ length: 8 }, (_, i) => `job-${backend}-${i}`);
      for (const id of jobIds) await q.enqueue('recording', id);

      // two workers race for the jobs, claims interleaved
      const claimed: Record<string, string[]> = { w1: [], w2: [] };
      const work = async (worker: 'w1' | 'w2') => {
        for (;;) {
          const job = await q.claim(worker, ['recording']);
          if (!job) return;
          claimed[worker].push(job.jobId);
        }
      };
      await Promise.all([work('w1'), work('w2')]);
      const all = [...claimed.w1, ...claimed.w2];
      assert.equal(new Set(all).size, all.length, `a job was claimed twice: ${JSON.stringify(claimed)}`);
      assert.deepEqual([...all].sort(), [...jobIds].sort());
      assert.equal(await q.claim('w3', ['recording']), null);
      assert.equal(await q.claim('w3', ['live-stream']), null);

      const rows = await s.services.store.db.selectFrom('job_queue').selectAll().where('job_id', 'in', jobIds).execute();
      const byJob = new Map(rows.map((r) => [r.job_id, r]));
      const mine = byJob.get(claimed.w1[0] ?? claimed.w2[0])!;
      const owner = mine.claimed_by!;
      assert.equal(typeof mine.attempts, 'number');
      assert.equal(await q.heartbeat(mine.id, owner), true);
      assert.equal(await q.heartbeat(mine.id, 'not-the-owner'), false);

      // a worker that stopped heartbeating: its claim is a minute old
      await q.enqueue('live-stream', `stale-${backend}`);
      setClockOffset(-60_000);
      let stale;
      try {
        stale = await q.claim('w-dead', ['live-stream']);
      } finally {
        setClockOffset(0);
      }
      assert.ok(stale);
      assert.equal(stale.attempts, 1);
      // fresh heartbeats keep the other claims; only the stale one goes back
      for (const r of rows) await q.heartbeat(r.id, r.claimed_by!);
      assert.equal(await q.requeueStale(30_000), 1);
      assert.equal(await q.heartbeat(stale.id, 'w-dead'), false);
      const again = await q.claim('w-new', ['live-stream']);
      assert.equal(again?.jobId, `stale-${backend}`);
      assert.equal(again?.attempts, 2);
      await q.complete(again!.id);
      for (const r of rows) await q.complete(r.id);
      // done jobs are never requeued, however old their heartbeat
      assert.equal(await q.requeueStale(0), 0);
      assert.equal(await q.claim('w-new', ['live-stream', 'recording']), null);
    });

    scenario('a restart keeps rooms, templates and room codes', async () => {
      assert.ok(s);
      const room = await s.api('POST', '/v2/rooms', { name: `keep-${backend}`, description: 'kept', webhook: { url: 'https://example.com/h' } });
      assert.equal(room.status, 200);
      const codes = await s.api('POST', `/v2/room-codes/room/${room.body.id}`);
      assert.equal(codes.status, 200, JSON.stringify(codes.body));
      const host = codes.body.data.find((c: any) => c.role === 'host');
      assert.equal((await s.api('POST', '/v2/room-codes/code', { code: host.code, enabled: false })).status, 200);
      const tpl = await insertTemplate(s.services.store.db, { name: `tpl-${backend}`, customer_id: s.services.customerId, ...defaultTemplateBody() });
      const roomsBefore = (await s.api('GET', '/v2/rooms?limit=100')).body.data;
      await s.stop();
      s = undefined;

      s = await startTestServer(env, dataDir);
      const got = await s.api('GET', `/v2/rooms/${room.body.id}`);
      assert.equal(got.status, 200);
      assert.equal(got.body.description, 'kept');
      assert.deepEqual(got.body.webhook, { url: 'https://example.com/h' });
      assert.deepEqual((await s.api('GET', '/v2/rooms?limit=100')).body.data, roomsBefore);
      const t = await getTemplateByName(s.services.store.db, `tpl-${backend}`);
      assert.deepEqual(t, tpl);
      assert.equal(await countTemplates(s.services.store.db, DEFAULT_TEMPLATE_NAME), 1);
      const listed = await s.api('GET', `/v2/room-codes/room/${room.body.id}?limit=100`);
      assert.deepEqual(
        listed.body.data.map((c: any) => c.code).sort(),
        codes.body.data.map((c: any) => c.code).sort(),
      );
      assert.deepEqual(await resolveRoomCode(s.services.store.db, host.code), { room_id: room.body.id, role: 'host', enabled: false });
      const guest = codes.body.data.find((c: any) => c.role === 'guest');
      assert.deepEqual(await resolveRoomCode(s.services.store.db, guest.code), { room_id: room.body.id, role: 'guest', enabled: true });
    });
  });
}
