// The assets' `event_sent` claims: a job's success event for an uploaded asset goes out once, whichever
// server or attempt gets there first. 0 = owed, 1 = claimed (the asset's own event is sent, or for a live
// stream: this asset is settled), 2 = a live stream's one event for all its assets is sent.
import type { Db } from './db.js';
import type { AssetTable } from './schema.js';

/** Moves the asset from owing its event to claimed; true for the one caller that did. */
export async function claimAssetEvent(db: Db, assetId: string): Promise<boolean> {
  const claimed = await db.updateTable('assets').set({ event_sent: 1 }).where('id', '=', assetId).where('event_sent', '=', 0).executeTakeFirst();
  return Number(claimed.numUpdatedRows) === 1;
}

/**
 * One event for all the assets of a job: one statement moves them all from 1 (claimed) to 2 (announced) only
 * while none is still 0, so of two racing uploads one gets true.
 */
export async function claimJobEvent(db: Db, jobId: string): Promise<boolean> {
  const announced = await db
    .updateTable('assets')
    .set({ event_sent: 2 })
    .where('job_id', '=', jobId)
    .where('event_sent', '=', 1)
    .where(({ not, exists, selectFrom }) => not(exists(selectFrom('assets as owing').select('owing.id').where('owing.job_id', '=', jobId).where('owing.event_sent', '=', 0))))
    .executeTakeFirst();
  return Number(announced.numUpdatedRows) > 0;
}

/** The job's completed assets that are not deleted, where they are now. */
export function completedAssetsOfJob(db: Db, jobId: string): Promise<AssetTable[]> {
  return db.selectFrom('assets').selectAll().where('job_id', '=', jobId).where('deleted_at', 'is', null).where('status', '=', 'completed').execute();
}
