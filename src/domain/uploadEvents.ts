// What a job's webhook consumers hear when the uploads of its assets settle (storage/uploads.ts reports
// `uploaded` and `failed`; this turns them into events, with one table entry per job kind).
//
// The success event goes out once: a recording's beam.recording.success once per asset, a live stream's one
// hls.recording.success for all its assets (room-vod, per-layer MP4s) once each of them got there. An asset
// gets there when its upload is confirmed (store path and presigned URL), or right after its first failed
// attempt with the local path and URL: consumers are not kept waiting on a store outage, and that local URL
// keeps working after the upload lands (it redirects to the store). beam.failure (hls.failure for a live
// stream) with UPLOAD_ERROR when an upload is given up on; an asset arriving after all clears the job's
// UPLOAD_ERROR. Webhook URLs live for the template's presignDuration (the HLS destination's for a stream).
import type { Config } from '../config.js';
import type { Db } from '../store/db.js';
import type { EventLog } from './events.js';
import type { AssetTable, LiveStreamTable, RecordingTable } from '../store/schema.js';
import type { AssetUploaded, AssetUploadFailed, UploadReports } from '../storage/uploads.js';
import { fromJson } from '../store/db.js';
import { rfc3339 } from '../clock.js';
import { claimAssetEvent, claimJobEvent, completedAssetsOfJob } from '../store/assetEvents.js';
import type { JobTableName } from '../store/jobRows.js';
import { getRecordingRow } from '../store/recordings.js';
import { getLiveStreamRow } from '../store/liveStreams.js';
import { getRoomRow } from '../store/rooms.js';
import { getTemplate } from '../store/templates.js';
import { clearUploadError, markLiveStreamUploadError, markRecordingUploadError } from '../store/uploadErrors.js';
import { webhookPresignSeconds } from '../model/templates.js';
import { beamEventBase, beamFailureData, beamRecordingSuccessData } from './beamEvents.js';
import { hlsEventBase, hlsFailureData, hlsRecordingSuccessData, type SingleFileOutcome } from './hlsEvents.js';
import { redactSecrets } from '../redact.js';

/** What the listener is built with (server.ts); `webhookUrl` is the upload manager's: the URL a success event names. */
export interface UploadEventDeps {
  config: Pick<Config, 'publicUrl'>;
  db: Db;
  events: EventLog;
  webhookUrl(asset: AssetTable, seconds: number): Promise<string | null>;
}

/** What one job says when its assets' uploads settle. */
interface JobUploadEvents {
  /** the asset's event was claimed (sent once): its success event, now or once the job's other assets are there */
  announce(asset: AssetTable): Promise<void>;
  /** the asset's upload was given up on: the job gets UPLOAD_ERROR and its consumers hear of it */
  uploadError(asset: AssetTable, message: string): Promise<void>;
}

/** One job kind: its table, and its events bound to a job of it (null when the id is not one of its jobs). */
interface JobKindUploads {
  table: JobTableName;
  eventsOf(deps: UploadEventDeps, jobId: string): Promise<JobUploadEvents | null>;
}

const JOB_KINDS: JobKindUploads[] = [
  {
    table: 'recordings',
    eventsOf: async (deps, id) => {
      const r = await getRecordingRow(deps.db, id);
      return r ? recordingUploadEvents(deps, r) : null;
    },
  },
  {
    table: 'live_streams',
    eventsOf: async (deps, id) => {
      const stream = await getLiveStreamRow(deps.db, id);
      return stream ? liveStreamUploadEvents(deps, stream) : null;
    },
  },
];

/** The listener the upload manager is built with (server.ts). */
export class UploadEvents implements UploadReports {
  constructor(private readonly deps: UploadEventDeps) {}

  async uploaded({ asset, recovered }: AssetUploaded): Promise<void> {
    if (recovered) {
      // it arrived after all: the job's UPLOAD_ERROR no longer holds
      for (const { table } of JOB_KINDS) {
        await clearUploadError(this.deps.db, table, asset.job_id, rfc3339());
      }
    }
    await this.announce(asset);
  }

  async failed({ asset, error, givenUp }: AssetUploadFailed): Promise<void> {
    // after the first failed attempt the recording is announced with its local URL
    await this.announce(asset);
    // UPLOAD_ERROR is announced once, not at every hourly retry (the manager reports givenUp once)
    if (!givenUp) return;
    const message = redactSecrets(`upload to the configured storage failed: ${error}; the recording is kept on this server`);
    await (await this.eventsOf(asset.job_id))?.uploadError(asset, message);
  }

  /** The asset's event, once (claimed in the row first, so never twice). */
  private async announce(asset: AssetTable): Promise<void> {
    if (asset.event_sent !== 0) return;
    if (!(await claimAssetEvent(this.deps.db, asset.id))) return;
    await (await this.eventsOf(asset.job_id))?.announce({ ...asset, event_sent: 1 });
  }

  private async eventsOf(jobId: string): Promise<JobUploadEvents | null> {
    for (const kind of JOB_KINDS) {
      const events = await kind.eventsOf(this.deps, jobId);
      if (events) return events;
    }
    return null;
  }
}

/** A recording: beam.recording.success per asset; beam.failure with UPLOAD_ERROR. */
function recordingUploadEvents(deps: UploadEventDeps, r: RecordingTable): JobUploadEvents {
  const db = deps.db;
  return {
    async announce(asset) {
      const url = await deps.webhookUrl(asset, webhookPresignSeconds(await templateOfRoom(deps, r.room_id)));
      await deps.events.emit('beam.recording.success', r.room_id, beamRecordingSuccessData(r, await beamEventBase(db, r), asset, url));
    },
    async uploadError(asset, message) {
      await markRecordingUploadError(db, r.id, message, rfc3339());
      const base = await beamEventBase(db, r);
      await deps.events.emit('beam.failure', r.room_id, beamFailureData(base, { message, type: 'UPLOAD_ERROR', at: rfc3339(), duration: asset.duration }));
    },
  };
}

/**
 * A live stream: one hls.recording.success once every asset of the stream is claimed; hls.failure with
 * UPLOAD_ERROR once per stream (the first asset given up on moves the row), the stream keeping its status.
 */
function liveStreamUploadEvents(deps: UploadEventDeps, stream: LiveStreamTable): JobUploadEvents {
  const db = deps.db;
  return {
    async announce() {
      if (!(await claimJobEvent(db, stream.id))) return;
      const assets = await completedAssetsOfJob(db, stream.id);
      const seconds = webhookPresignSeconds(await templateOfRoom(deps, stream.room_id), stream.destination);
      const vodAsset = assets.find((x) => x.type === 'room-vod');
      const vod = vodAsset ? { asset: vodAsset, presignedUrl: await deps.webhookUrl(vodAsset, seconds) } : null;
      const singleFiles: SingleFileOutcome[] = [];
      for (const f of assets.filter((x) => x.type === 'room-composite')) {
        const meta = fromJson<{ layer?: string; resolution?: { width?: number; height?: number } }>(f.metadata, {});
        singleFiles.push({ asset: f, presignedUrl: await deps.webhookUrl(f, seconds), layer: Number(meta.layer ?? 0), width: meta.resolution?.width ?? 0, height: meta.resolution?.height ?? 0 });
      }
      singleFiles.sort((x, y) => x.layer - y.layer);
      if (!vod && singleFiles.length === 0) return;
      const stoppedAt = stream.stopped_at ?? rfc3339();
      const duration = stream.started_at ? Math.max(0, Math.round((Date.parse(stoppedAt) - Date.parse(stream.started_at)) / 1000)) : Math.max(...assets.map((x) => x.duration));
      const base = await hlsEventBase(db, deps.config.publicUrl, stream);
      await deps.events.emit('hls.recording.success', stream.room_id, hlsRecordingSuccessData(stream, base, { vod, singleFiles, duration, stoppedAt }));
    },
    async uploadError(asset, message) {
      if (!(await markLiveStreamUploadError(db, stream.id, redactSecrets(message), rfc3339()))) return;
      const r = await getLiveStreamRow(db, stream.id);
      if (!r) return;
      const base = await hlsEventBase(db, deps.config.publicUrl, r);
      await deps.events.emit('hls.failure', r.room_id, hlsFailureData(base, { message: redactSecrets(message), type: 'UPLOAD_ERROR', at: rfc3339(), duration: asset.duration }));
    },
  };
}

async function templateOfRoom(deps: UploadEventDeps, roomId: string) {
  const room = await getRoomRow(deps.db, roomId);
  return room ? await getTemplate(deps.db, room.template_id) : null;
}
