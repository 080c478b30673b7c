// Job queue rows (jobs/queue.ts): a row per job that needs a worker, claimed with a conditional update so two
// workers (or servers) never take the same one; heartbeats show the claim is alive.
import type { Db } from './db.js';
import { rfc3339 } from '../clock.js';

export async function insertQueuedJob(db: Db, job: { id: string; kind: string; jobId: string; at: string }): Promise<void> {
  await db
    .insertInto('job_queue')
    .values({ id: job.id, kind: job.kind, job_id: job.jobId, state: 'queued', claimed_by: null, heartbeat_at: null, attempts: 0, created_at: job.at, updated_at: job.at })
    .execute();
}

/**
 * Claims the oldest queued job of the given kinds for this worker: its row, with `attempts` counting this
 * claim, or null. A row another worker claimed first is skipped; after 5 such races, null.
 */
export async function claimNextJob(db: Db, workerId: string, kinds: string[]): Promise<{ id: string; kind: string; job_id: string; attempts: number } | null> {
  for (let tries = 0; tries < 5; tries++) {
    const next = await db
      .selectFrom('job_queue')
      .select(['id', 'kind', 'job_id', 'attempts'])
      .where('state', '=', 'queued')
      .where('kind', 'in', kinds)
      .orderBy('created_at', 'asc')
      .orderBy('id', 'asc')
      .limit(1)
      .executeTakeFirst();
    if (!next) return null;
    if (await claimRow(db, next.id, workerId, next.attempts)) return { ...next, attempts: next.attempts + 1 };
    // another worker won this row; try the next one
  }
  return null;
}

/** queued → claimed by this worker, only if still queued (the fence: one claim wins). */
async function claimRow(db: Db, id: string, workerId: string, attempts: number): Promise<boolean> {
  const at = rfc3339();
  const res = await db
    .updateTable('job_queue')
    .set({ state: 'claimed', claimed_by: workerId, heartbeat_at: at, updated_at: at, attempts: attempts + 1 })
    .where('id', '=', id)
    .where('state', '=', 'queued')
    .executeTakeFirst();
  return Number(res.numUpdatedRows) === 1;
}

/** Claims one given row (a job the fleet's dispatcher delivered), or null when it is not waiting any more. */
export async function claimJobById(db: Db, queueId: string, workerId: string): Promise<{ id: string; kind: string; job_id: string; attempts: number } | null> {
  const row = await db.selectFrom('job_queue').select(['id', 'kind', 'job_id', 'attempts']).where('id', '=', queueId).where('state', '=', 'queued').executeTakeFirst();
  if (!row || !(await claimRow(db, row.id, workerId, row.attempts))) return null;
  return { ...row, attempts: row.attempts + 1 };
}

/** The claim is alive at `at`; false if this worker no longer holds it. */
export async function heartbeatJob(db: Db, queueId: string, workerId: string, at: string): Promise<boolean> {
  const res = await db
    .updateTable('job_queue')
    .set({ heartbeat_at: at, updated_at: at })
    .where('id', '=', queueId)
    .where('claimed_by', '=', workerId)
    .where('state', '=', 'claimed')
    .executeTakeFirst();
  return Number(res.numUpdatedRows) === 1;
}

export async function completeQueuedJob(db: Db, queueId: string, at: string): Promise<void> {
  await db.updateTable('job_queue').set({ state: 'done', updated_at: at }).where('id', '=', queueId).execute();
}

/** A claim its worker gives back (a drained machine hands its job over): queued again at once; the row, or null when it held none. */
export async function releaseClaim(db: Db, queueId: string, workerId: string, at: string): Promise<{ id: string; kind: string; job_id: string; attempts: number } | null> {
  const row = await db
    .updateTable('job_queue')
    // a job given back was not tried and failed: its claim does not count as an attempt
    .set((eb) => ({ state: 'queued', claimed_by: null, updated_at: at, attempts: eb('attempts', '-', 1) }))
    .where('id', '=', queueId)
    .where('claimed_by', '=', workerId)
    .where('state', '=', 'claimed')
    .returning(['id', 'kind', 'job_id', 'attempts'])
    .executeTakeFirst();
  return row ?? null;
}

/** Rows waiting in the queue since before `cutoff` (a fleet hands them to its dispatcher again: a delivery may have been lost). */
export async function queuedSince(db: Db, cutoff: string): Promise<Array<{ id: string; kind: string; job_id: string; attempts: number }>> {
  return db.selectFrom('job_queue').select(['id', 'kind', 'job_id', 'attempts']).where('state', '=', 'queued').where('updated_at', '<', cutoff).orderBy('created_at', 'asc').limit(1000).execute();
}

/** Claims whose last heartbeat is before `cutoff` go back to the queue; the rows put back. */
export async function requeueStaleJobs(db: Db, cutoff: string, at: string): Promise<Array<{ id: string; kind: string; job_id: string; attempts: number }>> {
  return db
    .updateTable('job_queue')
    .set({ state: 'queued', claimed_by: null, updated_at: at })
    .where('state', '=', 'claimed')
    .where('heartbeat_at', '<', cutoff)
    .returning(['id', 'kind', 'job_id', 'attempts'])
    .execute();
}
