// The recorder queue as the job services see it while a start waits for a free recorder: the jobs still
// waiting (in queue order), how many recorders are busy, and taking a waiting job out of the queue (its stop or
// its start timeout), conditionally, so a worker's claim and the withdrawal never both win.
import type { Db } from './db.js';

export interface WaitingJob {
  kind: string;
  job_id: string;
  /** claims so far: 0 = no recorder ever took it (a job put back after its worker died has more) */
  attempts: number;
}

/** Jobs no recorder has claimed yet, oldest first (the order workers claim them in). */
export async function queuedJobs(db: Db): Promise<WaitingJob[]> {
  return db.selectFrom('job_queue').select(['kind', 'job_id', 'attempts']).where('state', '=', 'queued').orderBy('created_at', 'asc').orderBy('id', 'asc').execute();
}

/** Jobs a recorder holds now. */
export async function claimedJobCount(db: Db): Promise<number> {
  const row = await db.selectFrom('job_queue').select((eb) => eb.fn.countAll<number>().as('n')).where('state', '=', 'claimed').executeTakeFirst();
  return Number(row?.n ?? 0);
}

/** Takes a job no recorder ever claimed out of the queue; false when a worker claimed it first. */
export async function withdrawQueued(db: Db, jobId: string, at: string): Promise<boolean> {
  const res = await db
    .updateTable('job_queue')
    .set({ state: 'done', updated_at: at })
    .where('job_id', '=', jobId)
    .where('state', '=', 'queued')
    .where('attempts', '=', 0)
    .executeTakeFirst();
  return Number(res.numUpdatedRows) > 0;
}
