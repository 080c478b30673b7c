// The beam.* event family of recordings (reference §5.4): the fields every beam event carries, and the data
// of beam.recording.success and beam.failure. The recording service sends them at the job's steps; the
// upload events (domain/uploadEvents.ts) when an asset's upload settles.
import type { Db } from '../store/db.js';
import type { AssetTable, RecordingTable } from '../store/schema.js';
import { rfc3339, uuid } from '../clock.js';
import { roomAndTemplate, sessionStartedAt } from '../store/jobRows.js';
import { redactSecrets } from '../redact.js';
import { failureEventData, type JobFailure } from './failureEvents.js';

export async function beamEventBase(db: Db, r: RecordingTable): Promise<Record<string, unknown>> {
  const { room, template } = await roomAndTemplate(db, r.room_id);
  const sessionStarted = await sessionStartedAt(db, r.session_id);
  return {
    beam_id: r.id,
    job_id: r.id,
    recording_enabled: true,
    room_id: r.room_id,
    room_name: room.name,
    peer_id: r.started_by,
    session_id: r.session_id,
    template_id: template.id,
    metadata_id: uuid(),
    metadata_timestamp: rfc3339(),
    max_width: r.width,
    max_height: r.height,
    meeting_url: redactSecrets(r.meeting_url),
    rtmp: [],
    session_started_at: sessionStarted,
  };
}

/** beam.recording.success data for an asset at its current path. */
export function beamRecordingSuccessData(
  r: RecordingTable,
  base: Record<string, unknown>,
  asset: Pick<AssetTable, 'created_at' | 'duration' | 'path' | 'size'>,
  presignedUrl: string | null,
): Record<string, unknown> {
  return {
    ...base,
    created_at: asset.created_at,
    duration: asset.duration,
    started_at: r.started_at,
    stopped_at: r.stopped_at,
    recording_id: r.id,
    recording_path: asset.path,
    recording_presigned_url: presignedUrl,
    location: asset.path,
    chat_recording_path: '',
    chat_recording_presigned_url: '',
    size: Number(asset.size),
  };
}

/** beam.failure data: the job failed, or its asset could not be uploaded (UPLOAD_ERROR). */
export function beamFailureData(base: Record<string, unknown>, failure: JobFailure): Record<string, unknown> {
  return failureEventData(base, failure, 'Failed');
}
