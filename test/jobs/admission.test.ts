// Admission by measured cost: a recorder machine's job loop takes jobs while their measured CPU cost stays under
// MAX_CPU_UTILIZATION of its cores (RECORDER_WORKERS still caps the count); an idle machine takes any job; a
// job that does not fit waits in the queue for capacity, here or elsewhere. Real queue rows (SQLite); the
// handlers are the test's, which hold each job until it lets it end.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openStore } from '../../src/store/db.js';
import { DbJobQueue, type JobKind, type QueuedJob } from '../../src/jobs/queue.js';
import { JobLoop } from '../../src/recorder/jobLoop.js';
import { Admission, JOB_COST_CORES, jobCostCores } from '../../src/recorder/admission.js';
import { createLogger } from '../../src/logger.js';
import { waitFor } from '../helpers/webhookReceiver.js';

const BOTH: JobKind[] = ['recording', 'live-stream'];

test('Admission: kinds that fit the cores × MAX_CPU_UTILIZATION budget; an idle machine takes anything; the count cap holds', () => {
  const a = new Admission({ cores: 2, maxUtilization: 0.8, maxJobs: 4, costs: { recording: 0.6, 'live-stream': 1.3 } });
  assert.deepEqual(a.kindsThatFit([], BOTH), BOTH);
  assert.deepEqual(a.kindsThatFit([0.6], BOTH), ['recording'], '0.6 + 1.3 > 1.6');
  assert.deepEqual(a.kindsThatFit([0.6, 0.6], BOTH), [], '1.2 + 0.6 > 1.6');
  assert.deepEqual(a.kindsThatFit([1.3], BOTH), []);
  assert.ok(Math.abs(a.freeCores([0.6]) - 1.0) < 1e-9);
  assert.equal(a.fits([0.6], 1.0), true);
  assert.equal(a.fits([0.6], 1.1), false);
  assert.equal(a.fits([], 5), true, 'an idle machine takes any job');
  const capped = new Admission({ cores: 16, maxUtilization: 0.8, maxJobs: 1 });
  assert.deepEqual(capped.kindsThatFit([0.75], BOTH), []);
  assert.deepEqual(capped.kindsThatFit([], ['recording']), ['recording']);
  assert.ok(JOB_COST_CORES['live-stream'] > JOB_COST_CORES.recording);
  // a composite costs by its size: 1080p more than 720p (measured), smaller ones as 720p
  assert.equal(jobCostCores('recording', { width: 1280, height: 720 }), JOB_COST_CORES.recording);
  assert.equal(jobCostCores('recording', { width: 640, height: 360 }), JOB_COST_CORES.recording);
  assert.ok(jobCostCores('recording', { width: 1920, height: 1080 }) > JOB_COST_CORES.recording);
  assert.equal(jobCostCores('live-stream'), JOB_COST_CORES['live-stream']);
});

test('the job loop of a 2-core machine runs two recordings, not three, and a live stream only once they are done', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'roomcast-admission-'));
  const store = await openStore(null, dir);
  const queue = new DbJobQueue(store.db);
  const running = new Map<string, () => void>();
  const ran: string[] = [];
  const handler = (job: QueuedJob) =>
    new Promise<void>((resolve) => {
      ran.push(job.jobId);
      running.set(job.jobId, resolve);
    }).finally(() => running.delete(job.jobId));
  const admission = new Admission({ cores: 2, maxUtilization: 0.8, maxJobs: 4 });
  const loop = new JobLoop({ queue, log: createLogger('silent'), takeoverMs: 60_000, admission }, { recording: handler, 'live-stream': handler }, 4);
  try {
    loop.start();
    for (const id of ['rec-1', 'rec-2', 'ls-1', 'rec-3']) await queue.enqueue(id.startsWith('ls') ? 'live-stream' : 'recording', id);
    await waitFor('two recordings running', () => running.size === 2, 10_000);
    await new Promise((r) => setTimeout(r, 1500)); // a few more loop turns: nothing else fits
    assert.deepEqual([...running.keys()].sort(), ['rec-1', 'rec-2']);
    assert.deepEqual(loop.runningKinds(), ['recording', 'recording']);

    // one ends: 0.75 + 0.75 still fits the 1.6-core budget, 0.75 + 0.95 for the live stream does not: the next
    // recording goes first
    running.get('rec-1')!();
    await waitFor('rec-3 running', () => running.has('rec-3'), 10_000);
    assert.equal(running.has('ls-1'), false);
    running.get('rec-2')!();
    running.get('rec-3')!();
    await waitFor('the live stream running alone', () => running.has('ls-1'), 10_000);
    assert.deepEqual(ran, ['rec-1', 'rec-2', 'rec-3', 'ls-1']);
    running.get('ls-1')!();
  } finally {
    for (const end of running.values()) end();
    await loop.stop();
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a 1080p composite that does not fit beside a running 720p one goes back to the queue, uncounted, and runs when that one ends', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'roomcast-admission-'));
  const store = await openStore(null, dir);
  const queue = new DbJobQueue(store.db);
  const running = new Map<string, () => void>();
  const handler = (job: QueuedJob) => new Promise<void>((resolve) => running.set(job.jobId, resolve)).finally(() => running.delete(job.jobId));
  const costOf = async (job: QueuedJob) => jobCostCores(job.kind, job.jobId.includes('1080') ? { width: 1920, height: 1080 } : { width: 1280, height: 720 });
  const admission = new Admission({ cores: 2, maxUtilization: 0.8, maxJobs: 4 });
  const loop = new JobLoop({ queue, log: createLogger('silent'), takeoverMs: 60_000, admission, costOf }, { recording: handler }, 4);
  try {
    loop.start();
    await queue.enqueue('recording', 'rec-720');
    await waitFor('the 720p recording running', () => running.has('rec-720'), 10_000);
    await queue.enqueue('recording', 'rec-1080');
    await new Promise((r) => setTimeout(r, 2500)); // loop turns: 0.75 + 0.95 > 1.6, it may not run here
    assert.deepEqual([...running.keys()], ['rec-720']);
    const row = await store.db.selectFrom('job_queue').selectAll().where('job_id', '=', 'rec-1080').executeTakeFirstOrThrow();
    assert.deepEqual([row.state, row.attempts], ['queued', 0], 'given back, and not counted as an attempt');
    assert.ok(Math.abs(loop.runningCosts()[0] - 0.75) < 1e-9);
    running.get('rec-720')!();
    await waitFor('the 1080p recording running once the machine is free', () => running.has('rec-1080'), 10_000);
    assert.ok(Math.abs(loop.runningCosts()[0] - jobCostCores('recording', { width: 1920, height: 1080 })) < 1e-9);
  } finally {
    for (const end of running.values()) end();
    await loop.stop();
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
