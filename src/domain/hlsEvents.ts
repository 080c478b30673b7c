// The hls.* event family of live streams (reference §5.4): the fields every hls event carries, and the data
// of hls.recording.success and hls.failure. The live stream service sends them at the stream's steps; the
// upload events (domain/uploadEvents.ts) when the uploads of the stream's recordings settle.
import type { Db } from '../store/db.js';
import type { AssetTable, LiveStreamTable } from '../store/schema.js';
import { rfc3339, uuid } from '../clock.js';
import { layersOf, playbackUrl } from '../store/liveStreams.js';
import { roomAndTemplate, sessionStartedAt } from '../store/jobRows.js';
import { redactSecrets } from '../redact.js';
import { failureEventData, type JobFailure } from './failureEvents.js';

/** One per-layer MP4 of a finished stream, as hls.recording.success lists it. */
export interface SingleFileOutcome {
  asset: AssetTable;
  presignedUrl: string | null;
  /** 0 = highest */
  layer: number;
  width: number;
  height: number;
}

/** The stream's recordings as hls.recording.success names them. */
export interface StreamRecordings {
  vod: { asset: AssetTable; presignedUrl: string | null } | null;
  singleFiles: SingleFileOutcome[];
  duration: number;
  stoppedAt: string;
}

/** Fields every hls.* event carries; `publicUrl` makes the stream's playback URL. */
export async function hlsEventBase(db: Db, publicUrl: string, r: LiveStreamTable): Promise<Record<string, unknown>> {
  const { room, template } = await roomAndTemplate(db, r.room_id);
  const sessionStarted = await sessionStartedAt(db, r.session_id);
  const top = layersOf(r)[0];
  return {
    beam_id: r.id,
    job_id: r.id,
    recording_single_file_per_layer_enabled: r.single_file_per_layer === 1,
    recording_vod_playlist_enabled: r.hls_vod === 1,
    room_id: r.room_id,
    room_name: room.name,
    peer_id: r.started_by,
    session_id: r.session_id,
    template_id: template.id,
    meeting_url: redactSecrets(r.meeting_url),
    metadata_id: uuid(),
    metadata_timestamp: rfc3339(),
    max_width: top?.width ?? 0,
    max_height: top?.height ?? 0,
    url: playbackUrl(publicUrl, r),
    started_at: r.started_at,
    session_started_at: sessionStarted,
  };
}

/** hls.recording.success data for the stream's recordings at their current paths. */
export function hlsRecordingSuccessData(r: LiveStreamTable, base: Record<string, unknown>, rec: StreamRecordings): Record<string, unknown> {
  const { vod, singleFiles: files } = rec;
  return {
    ...base,
    duration: rec.duration,
    hls_vod_recording_path: vod?.asset.path ?? '',
    hls_vod_recording_presigned_url: vod?.presignedUrl ?? '',
    hls_vod_recording_size: vod ? Number(vod.asset.size) : 0,
    recording_hls_vod_playlist_location: vod?.asset.path ?? '',
    chat_recording_path: '',
    chat_recording_presigned_url: '',
    recording_created_at: (vod?.asset ?? files[0]?.asset)?.created_at ?? null,
    stopped_at: rec.stoppedAt,
    recording_id: r.id,
    recording_single_files: files.map((f) => ({
      asset_id: f.asset.id,
      layer: String(f.layer),
      recording_path: f.asset.path,
      recording_presigned_url: f.presignedUrl ?? '',
      size: Number(f.asset.size),
      width: f.width,
      height: f.height,
    })),
    recording_thumbnails: [],
  };
}

/** hls.failure data: the stream failed, or its recordings could not be uploaded (UPLOAD_ERROR). */
export function hlsFailureData(base: Record<string, unknown>, failure: JobFailure): Record<string, unknown> {
  return failureEventData(base, failure, 'HLSFailed');
}
