// Recording job rows ⇄ the API's recording object (reference §2.3).
import type { Db } from './db.js';
import { fromJson } from './db.js';
import type { AssetTable, RecordingTable } from './schema.js';
import { ACTIVE_STATUSES } from '../model/jobStatus.js';

export interface AssetObject {
  id: string;
  job_id: string;
  room_id: string;
  session_id: string;
  type: string;
  status: string;
  path: string;
  size: number;
  duration: number;
  metadata: Record<string, unknown>;
  thumbnails: string[] | null;
  created_at: string;
}

export function rowToAsset(a: AssetTable): AssetObject {
  return {
    id: a.id,
    job_id: a.job_id,
    room_id: a.room_id,
    session_id: a.session_id,
    type: a.type,
    status: a.status,
    path: a.path,
    size: Number(a.size),
    duration: a.duration,
    metadata: fromJson(a.metadata, {}),
    thumbnails: fromJson(a.thumbnails, null),
    created_at: a.created_at,
  };
}

export interface RecordingObject {
  id: string;
  room_id: string;
  session_id: string;
  status: string;
  meeting_url: string;
  destination: string;
  asset_types: string[] | null;
  recording_assets: Omit<AssetObject, 'job_id' | 'room_id' | 'session_id'>[] | null;
  resolution: { width: number; height: number };
  audio_only: boolean;
  created_at: string;
  started_at: string | null;
  stopped_at: string | null;
  updated_at: string;
  started_by: string;
  stopped_by: string;
  /** extensions: why it stopped or failed */
  stop_reason?: string;
  error_type?: string;
  error_message?: string;
}

export function rowToRecording(r: RecordingTable, assets: AssetTable[] | null): RecordingObject {
  const out: RecordingObject = {
    id: r.id,
    room_id: r.room_id,
    session_id: r.session_id,
    status: r.status,
    meeting_url: r.meeting_url,
    destination: r.destination,
    asset_types: fromJson(r.asset_types, null),
    recording_assets: assets
      ? assets.map((a) => {
          const { job_id: _j, room_id: _r, session_id: _s, ...rest } = rowToAsset(a);
          return rest;
        })
      : null,
    resolution: { width: r.width, height: r.height },
    audio_only: r.audio_only === 1,
    created_at: r.created_at,
    started_at: r.started_at,
    stopped_at: r.stopped_at,
    updated_at: r.updated_at,
    started_by: r.started_by,
    stopped_by: r.stopped_by,
  };
  if (r.stop_reason) out.stop_reason = r.stop_reason;
  if (r.error_type) out.error_type = r.error_type;
  if (r.error_message) out.error_message = r.error_message;
  return out;
}

export async function getRecordingRow(db: Db, id: string): Promise<RecordingTable | undefined> {
  return db.selectFrom('recordings').selectAll().where('id', '=', id).executeTakeFirst();
}

export async function activeRecordings(db: Db, roomId: string): Promise<RecordingTable[]> {
  return db.selectFrom('recordings').selectAll().where('room_id', '=', roomId).where('status', 'in', ACTIVE_STATUSES).execute();
}

export async function assetsOfJob(db: Db, jobId: string): Promise<AssetTable[]> {
  return db.selectFrom('assets').selectAll().where('job_id', '=', jobId).orderBy('id', 'asc').execute();
}
