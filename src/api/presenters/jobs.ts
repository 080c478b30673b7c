// Recorder job rows → the API's objects: the part every job kind shares (who, when, how it ended, its assets),
// then each kind's own fields (recording, reference §2.3; live stream, §4.4), and the asset object (§3).
import { fromJson } from '../../store/db.js';
import type { AssetTable, JobColumns, LiveStreamTable, RecordingTable } from '../../store/schema.js';
import { playbackUrl } from '../../store/liveStreams.js';

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
  /**
   * extension: why a `starting` job has not started yet (it waits for a free recorder: its queue position,
   * the capacity, its deadline). The reference's `reason` is the stop reason of the stopped webhook; the
   * object's own stop reason is `stop_reason`.
   */
  reason?: string;
  /** extensions: why it stopped or failed */
  stop_reason?: string;
  error_type?: string;
  error_message?: string;
}

export function rowToJobObject(r: JobColumns, assets: AssetTable[] | null, reason?: string): JobObject {
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
  if (reason) out.reason = reason;
  if (r.stop_reason) out.stop_reason = r.stop_reason;
  if (r.error_type) out.error_type = r.error_type;
  if (r.error_message) out.error_message = r.error_message;
  return out;
}

export interface RecordingObject extends JobObject {
  asset_types: string[] | null;
  resolution: { width: number; height: number };
  audio_only: boolean;
}

export function rowToRecording(r: RecordingTable, assets: AssetTable[] | null, reason?: string): RecordingObject {
  return {
    ...rowToJobObject(r, assets, reason),
    asset_types: fromJson(r.asset_types, null),
    resolution: { width: r.width, height: r.height },
    audio_only: r.audio_only === 1,
  };
}

export interface LiveStreamObject extends JobObject {
  playback: { url: string };
  recording: { hls_vod: boolean; single_file_per_layer: boolean };
  /** extension: HLS recording paused (pause-recording) */
  recording_paused: boolean;
}

export function rowToLiveStream(r: LiveStreamTable, assets: AssetTable[] | null, publicUrl: string, reason?: string): LiveStreamObject {
  return {
    ...rowToJobObject(r, assets, reason),
    playback: { url: playbackUrl(publicUrl, r) },
    recording: { hls_vod: r.hls_vod === 1, single_file_per_layer: r.single_file_per_layer === 1 },
    recording_paused: r.recording_paused === 1,
  };
}
