// Recording job rows ⇄ the API's recording object (reference §2.3).
import type { Db } from './db.js';
import { fromJson } from './db.js';
import type { AssetTable, RecordingTable } from './schema.js';
import { ACTIVE_STATUSES } from '../model/jobStatus.js';
import { rowToJobObject, type JobObject } from './jobObjects.js';

export interface RecordingObject extends JobObject {
  asset_types: string[] | null;
  resolution: { width: number; height: number };
  audio_only: boolean;
}

export function rowToRecording(r: RecordingTable, assets: AssetTable[] | null): RecordingObject {
  return {
    ...rowToJobObject(r, assets),
    asset_types: fromJson(r.asset_types, null),
    resolution: { width: r.width, height: r.height },
    audio_only: r.audio_only === 1,
  };
}

export async function getRecordingRow(db: Db, id: string): Promise<RecordingTable | undefined> {
  return db.selectFrom('recordings').selectAll().where('id', '=', id).executeTakeFirst();
}

export async function activeRecordings(db: Db, roomId: string): Promise<RecordingTable[]> {
  return db.selectFrom('recordings').selectAll().where('room_id', '=', roomId).where('status', 'in', ACTIVE_STATUSES).execute();
}
