// Live-stream rows ⇄ the API's live-stream object (reference §4.4), and the queries the service, the
// supervisor, the worker and the HLS route share.
import type { Db } from './db.js';
import { fromJson } from './db.js';
import type { AssetTable, LiveStreamTable, TimedMetadataTable } from './schema.js';
import { ACTIVE_STATUSES } from '../model/jobStatus.js';
import type { HlsLayer } from '../model/templates.js';
import { rowToJobObject, type JobObject } from './jobObjects.js';

export interface LiveStreamObject extends JobObject {
  playback: { url: string };
  recording: { hls_vod: boolean; single_file_per_layer: boolean };
  /** extension: HLS recording paused (pause-recording) */
  recording_paused: boolean;
}

/** The master playlist's public URL. The random key in the path is what authorises playback. */
export function playbackUrl(publicUrl: string, r: Pick<LiveStreamTable, 'id' | 'playback_key'>): string {
  return `${publicUrl}/hls/${r.id}/${r.playback_key}/master.m3u8`;
}

export function rowToLiveStream(r: LiveStreamTable, assets: AssetTable[] | null, publicUrl: string): LiveStreamObject {
  return {
    ...rowToJobObject(r, assets),
    playback: { url: playbackUrl(publicUrl, r) },
    recording: { hls_vod: r.hls_vod === 1, single_file_per_layer: r.single_file_per_layer === 1 },
    recording_paused: r.recording_paused === 1,
  };
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
