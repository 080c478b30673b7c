// The assets of a recorder job, whichever kind made it (the API lists them with the job).
import type { Db } from './db.js';
import type { AssetTable } from './schema.js';

export async function assetsOfJob(db: Db, jobId: string): Promise<AssetTable[]> {
  return db.selectFrom('assets').selectAll().where('job_id', '=', jobId).orderBy('id', 'asc').execute();
}
