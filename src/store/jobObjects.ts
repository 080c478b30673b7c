// The API object of a recorder job row, the part both kinds share (recording, reference §2.3; live stream,
// §4.4): who, when, how it ended, and its assets. Each kind's module adds its own fields.
import type { Db } from './db.js';
import { fromJson } from './db.js';
import type { AssetTable, JobColumns } from './schema.js';

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

export async function assetsOfJob(db: Db, jobId: string): Promise<AssetTable[]> {
  return db.selectFrom('assets').selectAll().where('job_id', '=', jobId).orderBy('id', 'asc').execute();
}

export interface JobObject {
  id: string;
  room_id: string;
  session_id: string;
  status: string;
  meeting_url: string;
  destination: string;
  /** the job's assets without what the job already says (job, room, session); null when not asked for */
  recording_assets: Omit<AssetObject, 'job_id' | 'room_id' | 'session_id'>[] | null;
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

export function rowToJobObject(r: JobColumns, assets: AssetTable[] | null): JobObject {
  const out: JobObject = {
    id: r.id,
    room_id: r.room_id,
    session_id: r.session_id,
    status: r.status,
    meeting_url: r.meeting_url,
    destination: r.destination,
    recording_assets: assets
      ? assets.map((a) => {
          const { job_id: _j, room_id: _r, session_id: _s, ...rest } = rowToAsset(a);
          return rest;
        })
      : null,
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
