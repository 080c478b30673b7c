// Asset rows of recordings still being written: a recording's MP4 asset row is inserted with status `recording`
// at its first frame (the bytes on disk always have a row), and the finished job's draft of it updates the same
// row. Rows that never got bytes are removed at the end; rows whose files could not be built stay, `failed`.
import type { Db } from './db.js';
import type { AssetTable } from './schema.js';

/** Asset status while its job still writes it (the reference has `completed`, `failed`, and `processing` for transcripts). */
export const ASSET_RECORDING = 'recording';

export async function insertAsset(db: Db, asset: AssetTable): Promise<void> {
  await db.insertInto('assets').values(asset).execute();
}

/** Inserts a job's assets, or updates those whose row is already there (opened while recording). */
export async function saveAssets(db: Db, assets: AssetTable[]): Promise<void> {
  for (const a of assets) {
    const { id: _id, ...rest } = a;
    await db.insertInto('assets').values(a).onConflict((oc) => oc.column('id').doUpdateSet(rest)).execute();
  }
}

/** The job's asset of `type` still being recorded, if any. */
export async function openAssetOf(db: Db, jobId: string, type: string): Promise<AssetTable | undefined> {
  return db.selectFrom('assets').selectAll().where('job_id', '=', jobId).where('type', '=', type).where('status', '=', ASSET_RECORDING).executeTakeFirst();
}

/**
 * After the job closed: its asset rows still `recording` got no file. Without `kept` (nothing was captured)
 * they go; with it (the captured files are kept in the work dir) they stay as `failed`, saying where.
 */
export async function settleOpenAssets(db: Db, jobId: string, kept: string | null): Promise<void> {
  const open = db.selectFrom('assets').select('id').where('job_id', '=', jobId).where('status', '=', ASSET_RECORDING);
  if (kept === null) await db.deleteFrom('assets').where('id', 'in', open).execute();
  else await db.updateTable('assets').set({ status: 'failed', error_message: kept }).where('id', 'in', open).execute();
}
