// Fleet dispatch latency: start call → a worker has the job, with 20 jobs over 4 recorder machines on one Redis
// (BullMQ) and one PostgreSQL, as `roomcast worker`s share them. Each machine is a JobLoop with the real
// BullJobQueue and cost admission; its jobs hold 2 s instead of recording (the queue is what is measured).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openStore } from '../src/store/db.js';
import { BullJobQueue, redisConnection } from '../src/jobs/bullQueue.js';
import { JobLoop } from '../src/recorder/jobLoop.js';
import { Admission } from '../src/recorder/admission.js';
import { createLogger } from '../src/logger.js';
import { startRedis } from '../test/helpers/redis.js';
import { startPostgres } from '../test/helpers/postgres.js';

const JOBS = 20;
const MACHINES = 4;
const HOLD_MS = 2000;

function pct(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}

export async function benchDispatch(): Promise<object> {
  const [redis, postgres] = await Promise.all([startRedis(), startPostgres('roomcast_dispatch')]);
  const dir = mkdtempSync(join(tmpdir(), 'roomcast-dispatch-'));
  const store = await openStore(postgres.url, dir);
  const queues: BullJobQueue[] = [];
  const loops: JobLoop[] = [];
  const enqueuedAt = new Map<string, number>();
  const latencies: number[] = [];
  const perMachine: number[] = Array(MACHINES).fill(0);
  try {
    for (let m = 0; m < MACHINES; m++) {
      const queue = new BullJobQueue(store.db, redisConnection(redis.url), 10_000);
      queues.push(queue);
      // a 2-core machine: two recordings at once under MAX_CPU_UTILIZATION 0.8
      const admission = new Admission({ cores: 2, maxUtilization: 0.8, maxJobs: 4 });
      const handler = async (job: { jobId: string }) => {
        latencies.push(Date.now() - enqueuedAt.get(job.jobId)!);
        perMachine[m]++;
        await new Promise((r) => setTimeout(r, HOLD_MS));
      };
      const loop = new JobLoop({ queue, log: createLogger('silent'), takeoverMs: 10_000, admission }, { recording: handler, 'live-stream': handler }, 4);
      loops.push(loop);
      loop.start();
    }
    const api = new BullJobQueue(store.db, redisConnection(redis.url), 10_000); // the node's side: it only adds
    queues.push(api);
    for (let i = 0; i < JOBS; i++) {
      const id = `job-${i}`;
      enqueuedAt.set(id, Date.now());
      await api.enqueue('recording', id);
    }
    const until = Date.now() + 120_000;
    while (latencies.length < JOBS && Date.now() < until) await new Promise((r) => setTimeout(r, 100));
    const sorted = [...latencies].sort((a, b) => a - b);
    // with 4 machines × 2 recordings, the first 8 jobs start at once; the others wait for a slot (2 s each)
    const immediate = sorted.slice(0, MACHINES * 2);
    return {
      jobs: JOBS,
      machines: MACHINES,
      slots: MACHINES * 2,
      taken: latencies.length,
      per_machine: perMachine,
      first_slots_ms: { p50: pct(immediate, 50), p99: pct(immediate, 99) },
      all_ms: { p50: pct(sorted, 50), p99: pct(sorted, 99), max: sorted[sorted.length - 1] },
    };
  } finally {
    await Promise.all(loops.map((l) => l.stop()));
    for (const q of queues) await q.close().catch(() => undefined);
    await store.close();
    await Promise.all([redis.stop(), postgres.stop()]);
    rmSync(dir, { recursive: true, force: true });
  }
}
