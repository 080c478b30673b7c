// Recording job rows: the queries the service, the worker and the API share.
import type { Db } from './db.js';
import type { RecordingTable } from './schema.js';
import { ACTIVE_STATUSES } from '../model/jobStatus.js';

export async function getRecordingRow(db: Db, id: string): Promise<RecordingTable | undefined> {
  return db.selectFrom('recordings').selectAll().where('id', '=', id).executeTakeFirst();
}

export async function activeRecordings(db: Db, roomId: string): Promise<RecordingTable[]> {
  return db.selectFrom('recordings').selectAll().where('room_id', '=', roomId).where('status', 'in', ACTIVE_STATUSES).execute();
}

export async function setRecordingPaused(db: Db, id: string, set: Pick<RecordingTable, 'paused' | 'updated_at'>): Promise<void> {
  await db.updateTable('recordings').set(set).where('id', '=', id).execute();
}
