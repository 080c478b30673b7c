// Asset rows as the retention sweep sees them (storage/retention.ts): local assets past their time, and
// uploaded ones whose local copy may still be on this server's disk.
import type { Db } from './db.js';

/**
 * Assets kept only on this server (no upload), not deleted, made before `cutoff`, on `node`'s disk (or on no
 * node's: rows that predate uploads).
 */
export async function expiredLocalAssets(db: Db, node: string, cutoff: string): Promise<{ id: string; type: string; storage_key: string }[]> {
  return db
    .selectFrom('assets')
    .select(['id', 'type', 'storage_key'])
    .where('storage', '=', 'local')
    .where('upload_state', 'is', null)
    .where('deleted_at', 'is', null)
    .where('created_at', '<', cutoff)
    .where((eb) => eb.or([eb('local_node', '=', node), eb('local_node', 'is', null)]))
    .execute();
}

/** The asset's file is gone; the row stays, so the API can say why. */
export async function markAssetDeleted(db: Db, assetId: string, at: string): Promise<void> {
  await db.updateTable('assets').set({ deleted_at: at }).where('id', '=', assetId).execute();
}

/** Uploaded assets that had a local copy on `node`'s disk. */
export async function uploadedWithLocalCopy(db: Db, node: string): Promise<{ id: string; local_key: string | null | undefined }[]> {
  return db.selectFrom('assets').select(['id', 'local_key']).where('upload_state', '=', 'done').where('local_node', '=', node).where('local_key', 'is not', null).execute();
}
