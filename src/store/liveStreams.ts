// Live-stream rows: the queries the service, the supervisor, the worker and the HLS route share, and the
// playback URL a row gives (the API object and the hls.* events name it).
import type { Db } from './db.js';
import { fromJson } from './db.js';
import type { AssetTable, LiveStreamTable, TimedMetadataTable } from './schema.js';
import { ACTIVE_STATUSES } from '../model/jobStatus.js';
import type { HlsLayer } from '../model/templates.js';

/** The master playlist's public URL. The random key in the path is what authorises playback. */
export function playbackUrl(publicUrl: string, r: Pick<LiveStreamTable, 'id' | 'playback_key'>): string {
  return `${publicUrl}/hls/${r.id}/${r.playback_key}/master.m3u8`;
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

/** Pauses or resumes the stream's recording while it is running; false when it no longer is. */
export async function setLiveStreamRecordingPaused(db: Db, id: string, set: Pick<LiveStreamTable, 'recording_paused' | 'updated_at'>): Promise<boolean> {
  const res = await db.updateTable('live_streams').set(set).where('id', '=', id).where('status', '=', 'running').executeTakeFirst();
  return Number(res.numUpdatedRows) > 0;
}

export async function insertTimedMetadata(db: Db, row: TimedMetadataTable): Promise<void> {
  await db.insertInto('timed_metadata').values(row).execute();
}
