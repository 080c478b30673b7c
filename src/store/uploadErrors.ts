// A job's UPLOAD_ERROR (domain/uploadEvents.ts): set when an upload of its assets is given up on, cleared
// when the asset arrives after all.
import type { Db } from './db.js';
import type { JobTableName } from './jobRows.js';

/** The job's UPLOAD_ERROR no longer holds (nothing changes when its error is another one, or it is no job of `table`). */
export async function clearUploadError(db: Db, table: JobTableName, jobId: string, at: string): Promise<void> {
  await db
    .updateTable(table as 'recordings')
    .set({ error_type: null, error_message: null, updated_at: at })
    .where('id', '=', jobId)
    .where('error_type', '=', 'UPLOAD_ERROR')
    .execute();
}

export async function markRecordingUploadError(db: Db, id: string, message: string, at: string): Promise<void> {
  await db.updateTable('recordings').set({ error_type: 'UPLOAD_ERROR', error_message: message, updated_at: at }).where('id', '=', id).execute();
}

/** Sets the stream's UPLOAD_ERROR once: true for the caller that set it, false when it was set already. */
export async function markLiveStreamUploadError(db: Db, id: string, message: string, at: string): Promise<boolean> {
  const res = await db
    .updateTable('live_streams')
    .set({ error_type: 'UPLOAD_ERROR', error_message: message, updated_at: at })
    .where('id', '=', id)
    .where((eb) => eb.or([eb('error_type', 'is', null), eb('error_type', '!=', 'UPLOAD_ERROR')]))
    .executeTakeFirst();
  return Number(res.numUpdatedRows) > 0;
}
