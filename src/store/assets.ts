// Asset rows: stored by the job service when a job closes, read by the recording-assets API, the VOD route
// and the local download route (the API object: api/presenters/jobs.ts).
import type { Db } from './db.js';
import type { AssetTable } from './schema.js';

export async function insertAssets(db: Db, assets: AssetTable[]): Promise<void> {
  await db.insertInto('assets').values(assets).execute();
}

export async function getAsset(db: Db, id: string): Promise<AssetTable | undefined> {
  return db.selectFrom('assets').selectAll().where('id', '=', id).executeTakeFirst();
}

export interface AssetFilter {
  roomId?: string;
  sessionId?: string;
  jobId?: string;
  status?: string;
  type?: string;
  /** ids below this one (the previous page's last) */
  belowId?: string;
  limit: number;
}

/** Assets newest id first. */
export async function listAssets(db: Db, f: AssetFilter): Promise<AssetTable[]> {
  let sel = db.selectFrom('assets').selectAll();
  if (f.roomId) sel = sel.where('room_id', '=', f.roomId);
  if (f.sessionId) sel = sel.where('session_id', '=', f.sessionId);
  if (f.jobId) sel = sel.where('job_id', '=', f.jobId);
  if (f.status) sel = sel.where('status', '=', f.status);
  if (f.type) sel = sel.where('type', '=', f.type);
  if (f.belowId) sel = sel.where('id', '<', f.belowId);
  return sel.orderBy('id', 'desc').limit(f.limit).execute();
}

/** The asset, not deleted, whose local copy had this key and that is now in the customer's store. */
export async function uploadedAssetOfLocalKey(db: Db, localKey: string): Promise<AssetTable | undefined> {
  return db.selectFrom('assets').selectAll().where('local_key', '=', localKey).where('upload_state', '=', 'done').where('deleted_at', 'is', null).executeTakeFirst();
}
