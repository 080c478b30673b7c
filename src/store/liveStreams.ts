// Live-stream rows ⇄ the API's live-stream object (reference §4.4), and the queries the service, the
// supervisor, the worker and the HLS route share.
import type { Db } from './db.js';
import { fromJson } from './db.js';
import type { AssetTable, LiveStreamTable, TimedMetadataTable } from './schema.js';
import { ACTIVE_STATUSES } from '../model/jobStatus.js';
import type { HlsLayer } from '../model/templates.js';
import { rowToAsset, type AssetObject } from './recordings.js';

export interface LiveStreamObject {
  id: string;
  room_id: string;
  session_id: string;
  status: string;
  meeting_url: string;
  playback: { url: string };
  recording: { hls_vod: boolean; single_file_per_layer: boolean };
  destination: string;
  recording_assets: Omit<AssetObject, 'job_id' | 'room_id' | 'session_id'>[] | null;
  created_at: string;
  started_at: string | null;
  stopped_at: string | null;
  updated_at: string;
  started_by: string;
  stopped_by: string;
  /** extensions: HLS recording paused (pause-recording), why it stopped or failed */
  recording_paused: boolean;
  stop_reason?: string;
  error_type?: string;
  error_message?: string;
}

/** The master playlist's public URL. The random key in the path is what authorises playback. */
export function playbackUrl(publicUrl: string, r: Pick<LiveStreamTable, 'id' | 'playback_key'>): string {
  return `${publicUrl}/hls/${r.id}/${r.playback_key}/master.m3u8`;
}

export function rowToLiveStream(r: LiveStreamTable, assets: AssetTable[] | null, publicUrl: string): LiveStreamObject {
  const out: LiveStreamObject = {
    id: r.id,
    room_id: r.room_id,
    session_id: r.session_id,
    status: r.status,
    meeting_url: r.meeting_url,
    playback: { url: playbackUrl(publicUrl, r) },
    recording: { hls_vod: r.hls_vod === 1, single_file_per_layer: r.single_file_per_layer === 1 },
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
    recording_paused: r.recording_paused === 1,
  };
  if (r.stop_reason) out.stop_reason = r.stop_reason;
  if (r.error_type) out.error_type = r.error_type;
  if (r.error_message) out.error_message = r.error_message;
  return out;
}

export function layersOf(r: Pick<LiveStreamTable, 'layers'>): HlsLayer[] {
  return fromJson<HlsLayer[]>(r.layers, []);
}

/** The layers whose recordings are kept: the destination's `recording.layers`, or all of them. */
export function recordedLayersOf(r: Pick<LiveStreamTable, 'layers' | 'recording_layers'>): HlsLayer[] {
  return fromJson<HlsLayer[] | null>(r.recording_layers, null) ?? layersOf(r);
}

export async function getLiveStreamRow(db: Db, id: string): Promise<LiveStreamTable | undefined> {
  return db.selectFrom('live_streams').selectAll().where('id', '=', id).executeTakeFirst();
}

export async function activeLiveStreams(db: Db, roomId: string): Promise<LiveStreamTable[]> {
  return db.selectFrom('live_streams').selectAll().where('room_id', '=', roomId).where('status', 'in', ACTIVE_STATUSES).execute();
}

export async function timedMetadataOf(db: Db, streamId: string): Promise<TimedMetadataTable[]> {
  return db.selectFrom('timed_metadata').selectAll().where('stream_id', '=', streamId).orderBy('created_at', 'asc').orderBy('id', 'asc').execute();
}
