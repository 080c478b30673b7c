// The upload columns of asset rows as the upload manager moves them (storage/uploads.ts): which uploads are
// due on this server, and each step's state (pending → done, failed and retried, or staying local).
import type { Db } from './db.js';
import type { AssetTable } from './schema.js';

type UploadColumns = Pick<
  AssetTable,
  'storage' | 'storage_key' | 'path' | 'upload_state' | 'upload_attempts' | 'upload_next_at' | 'upload_error' | 'upload_id' | 'upload_target' | 'uploaded_at'
>;

async function setUploadColumns(db: Db, assetId: string, set: Partial<UploadColumns>): Promise<void> {
  await db.updateTable('assets').set(set).where('id', '=', assetId).execute();
}

/** Schedules, for `at`, the pending uploads of this node's assets that were never scheduled (a crash). */
export async function scheduleUnscheduledUploads(db: Db, node: string, at: string): Promise<void> {
  await db.updateTable('assets').set({ upload_next_at: at }).where('upload_state', '=', 'pending').where('upload_next_at', 'is', null).where('local_node', '=', node).execute();
}

/** How many of this node's assets still wait for their upload (pending: not yet failed for good). */
export async function pendingUploadCount(db: Db, node: string): Promise<number> {
  const row = await db.selectFrom('assets').select((eb) => eb.fn.countAll<number>().as('n')).where('upload_state', '=', 'pending').where('local_node', '=', node).where('deleted_at', 'is', null).executeTakeFirst();
  return Number(row?.n ?? 0);
}

/** This node's assets whose upload (pending or failed) is due by `at`, the longest due first. */
export async function dueUploads(db: Db, node: string, at: string, limit: number): Promise<AssetTable[]> {
  return db
    .selectFrom('assets')
    .selectAll()
    .where('upload_state', 'in', ['pending', 'failed'])
    .where('local_node', '=', node)
    .where('upload_next_at', '<=', at)
    .where('deleted_at', 'is', null)
    .orderBy('upload_next_at', 'asc')
    .limit(limit)
    .execute();
}

/** Makes a pending upload due at `at` (no change when the asset is not pending). */
export async function schedulePendingUpload(db: Db, assetId: string, at: string): Promise<void> {
  await db.updateTable('assets').set({ upload_next_at: at }).where('id', '=', assetId).where('upload_state', '=', 'pending').execute();
}

/** The multipart upload id, so a retry resumes the parts already sent. */
export async function saveUploadId(db: Db, assetId: string, uploadId: string | null): Promise<void> {
  await setUploadColumns(db, assetId, { upload_id: uploadId });
}

/** No store any more: the asset stays on this server. */
export async function keepAssetLocal(db: Db, assetId: string, local: Pick<UploadColumns, 'upload_state' | 'upload_next_at' | 'upload_error'>): Promise<void> {
  await setUploadColumns(db, assetId, local);
}

/** The store has the whole object: the row points at it. */
export async function markUploaded(db: Db, assetId: string, done: UploadColumns): Promise<void> {
  await setUploadColumns(db, assetId, done);
}

/** The attempt was cut (shutdown): due again at `at`, not counted as a try. */
export async function resumeUploadAt(db: Db, assetId: string, at: string): Promise<void> {
  await setUploadColumns(db, assetId, { upload_next_at: at });
}

/** A failed try, retried at `upload_next_at`. */
export async function retryUploadAt(db: Db, assetId: string, retry: Pick<UploadColumns, 'upload_attempts' | 'upload_error' | 'upload_next_at'>): Promise<void> {
  await setUploadColumns(db, assetId, retry);
}

/** UPLOAD_ERROR: state `failed`, retried at `upload_next_at` (never when null). */
export async function markUploadFailed(db: Db, assetId: string, failed: Pick<UploadColumns, 'upload_attempts' | 'upload_error' | 'upload_next_at'>): Promise<void> {
  await setUploadColumns(db, assetId, { upload_state: 'failed', ...failed });
}

/**
 * Assets waiting for their upload (pending or failed) whose local copy is on a machine not in `alive` (a fleet
 * machine that died after making them), of the kinds a recording's streamed parts can rebuild: room-composite.
 */
export async function strandedUploads(db: Db, alive: string[], limit: number): Promise<AssetTable[]> {
  let q = db
    .selectFrom('assets')
    .selectAll()
    .where('upload_state', 'in', ['pending', 'failed'])
    .where('type', '=', 'room-composite')
    .where('job_id', 'is not', null)
    .where('local_node', 'is not', null)
    .where('deleted_at', 'is', null);
  if (alive.length > 0) q = q.where('local_node', 'not in', alive);
  return q.orderBy('created_at', 'asc').limit(limit).execute();
}

/**
 * Makes this machine the one holding the asset's local copy, if it is still on `from` (fenced: two machines
 * adopting it at once, one wins); its size is the rebuilt copy's and its upload due at `at`.
 */
export async function adoptUpload(db: Db, assetId: string, from: string, to: string, size: number, at: string): Promise<boolean> {
  const r = await db
    .updateTable('assets')
    .set({ local_node: to, size, upload_next_at: at, upload_id: null })
    .where('id', '=', assetId)
    .where('local_node', '=', from)
    .where('upload_state', 'in', ['pending', 'failed'])
    .executeTakeFirst();
  return Number(r.numUpdatedRows) === 1;
}
