// A finished recording without a recorder: a recording row, a file moved into local storage, and the recording
// service's finish() — the same steps the recorder worker's finalize() takes. Likewise for a live stream.
import { randomBytes, createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import type { TestServer } from './server.js';
import { objectId, rfc3339 } from '../../src/clock.js';
import { toJson } from '../../src/store/db.js';
import type { AssetTable, JobColumns, LiveStreamTable, RecordingTable } from '../../src/store/schema.js';
import { beamKey } from '../../src/storage/local.js';
import { hlsLayerFileKey, hlsVodKeyDir } from '../../src/storage/live.js';

export interface Recorded {
  recordingId: string;
  assetId: string;
  localKey: string;
  bytes: Buffer;
  sha256: string;
}

export function sha256(b: Buffer | Uint8Array): string {
  return createHash('sha256').update(b).digest('hex');
}

/** A template with the given storage config and a room on it; returns the room id. */
export async function roomWithStorage(s: TestServer, name: string, upload: Record<string, unknown> | null): Promise<string> {
  const body: Record<string, unknown> = { name: `tpl-${name}` };
  if (upload) body.settings = { recording: { upload } };
  const t = await s.api('POST', '/v2/templates', body);
  if (t.status !== 200) throw new Error(`template: ${JSON.stringify(t.body)}`);
  const r = await s.api('POST', '/v2/rooms', { name, template_id: t.body.id });
  if (r.status !== 200) throw new Error(`room: ${JSON.stringify(r.body)}`);
  return r.body.id;
}

/** The columns every job row has: a job of the room, `status`, started at `startedMs`, in no session. */
function jobColumns(roomId: string, meetingUrl: string, status: string, startedMs: number, stopReason: string | null = null): JobColumns {
  const at = rfc3339();
  return {
    id: objectId(),
    room_id: roomId,
    session_id: '',
    status,
    meeting_url: meetingUrl,
    destination: 'default',
    max_duration: 14400,
    auto_stop_timeout: 300,
    started_by: '',
    stopped_by: '',
    stop_reason: stopReason,
    error_type: null,
    error_message: null,
    created_at: at,
    started_at: new Date(startedMs).toISOString(),
    stopped_at: null,
    updated_at: at,
  };
}

/** A completed asset of the job, its bytes at `key` in local storage. */
function localAsset(
  s: TestServer,
  job: Pick<JobColumns, 'id' | 'room_id'>,
  a: { type: string; key: string; size: number; duration: number; metadata: unknown; createdAt?: string },
): AssetTable {
  return {
    id: objectId(),
    job_id: job.id,
    room_id: job.room_id,
    session_id: '',
    type: a.type,
    status: 'completed',
    path: s.services.localStorage.pathOf(a.key),
    storage: 'local',
    storage_key: a.key,
    size: a.size,
    duration: a.duration,
    metadata: toJson(a.metadata),
    thumbnails: null,
    error_message: null,
    created_at: a.createdAt ?? rfc3339(),
    deleted_at: null,
  };
}

/** `beforeFinish`: runs once the recording row and its file exist, before the job finishes (its upload starts then) */
export async function recordAsset(s: TestServer, roomId: string, size: number, opts: { createdAt?: string; beforeFinish?: (recordingId: string, file: string) => Promise<void> } = {}): Promise<Recorded> {
  const db = s.services.store.db;
  const startedMs = Date.now() - 5000;
  const rec: RecordingTable = {
    ...jobColumns(roomId, `${s.url}/preview/${roomId}/beam`, 'running', startedMs),
    asset_types: toJson(['room-composite']),
    width: 1280,
    height: 720,
    audio_only: 0,
    paused: 0,
  };
  await db.insertInto('recordings').values(rec).execute();
  const bytes = randomBytes(size);
  const file = join(mkdtempSync(join(tmpdir(), 'rec-')), 'joined.mp4');
  writeFileSync(file, bytes);
  const key = beamKey(s.services.customerId, roomId, startedMs);
  await opts.beforeFinish?.(rec.id, file);
  s.services.localStorage.put(key, file);
  const metadata = { resolution: { width: 1280, height: 720 } };
  const asset = localAsset(s, rec, { type: 'room-composite', key, size, duration: 5, metadata, createdAt: opts.createdAt });
  await s.services.recordings.finish(rec.id, {
    asset,
    presignedUrl: s.services.localStorage.presign(key, 24 * 3600).url,
    stoppedAt: new Date(),
  });
  return { recordingId: rec.id, assetId: asset.id, localKey: key, bytes, sha256: sha256(bytes) };
}

export async function assetRow(s: TestServer, id: string): Promise<AssetTable> {
  return s.services.store.db.selectFrom('assets').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
}

export async function download(url: string): Promise<{ status: number; body: Buffer; redirected: boolean }> {
  const res = await fetch(url);
  return { status: res.status, body: Buffer.from(await res.arrayBuffer()), redirected: res.redirected };
}

export interface RecordedLiveStream {
  streamId: string;
  vodAssetId: string;
  fileAssetId: string;
  fileSha256: string;
}

/**
 * A finished live stream without a recorder: a live_streams row, a room-vod (master, one layer playlist, one
 * segment) and one per-layer MP4 in local storage, then the steps the live worker's finalize() takes: prepare
 * for upload, the service's finish(), schedule the uploads.
 */
export async function recordLiveStream(s: TestServer, roomId: string): Promise<RecordedLiveStream> {
  const db = s.services.store.db;
  const startedMs = Date.now() - 8000;
  const row: LiveStreamTable = {
    ...jobColumns(roomId, `${s.url}/preview/${roomId}/__internal_recorder?skip_preview=true`, 'stopping', startedMs, 'client request'),
    playback_key: randomBytes(16).toString('base64url'),
    hls_vod: 1,
    single_file_per_layer: 1,
    layers: toJson([{ width: 1280, height: 720, videoBitrate: 2500, audioBitrate: 128 }]),
    recording_layers: null,
    playlist_type: 'live',
    num_playlist_segments: 5,
    video_frame_rate: 30,
    metadata_insertion: 1,
    recording_paused: 0,
  };
  await db.insertInto('live_streams').values(row).execute();
  const ls = s.services.localStorage;
  const tmp = mkdtempSync(join(tmpdir(), 'live-'));
  const mp4 = join(tmp, 'layer-0.mp4');
  const bytes = randomBytes(50_000);
  writeFileSync(mp4, bytes);
  const fileKey = hlsLayerFileKey(s.services.customerId, roomId, startedMs, 0);
  const fileSize = ls.put(fileKey, mp4).size;
  const dir = hlsVodKeyDir(s.services.customerId, roomId, startedMs);
  const vodFiles: Record<string, string> = {
    '720p/seg_00000.ts': 'x'.repeat(4000),
    '720p/index.m3u8': '#EXTM3U\n#EXT-X-PLAYLIST-TYPE:VOD\n#EXT-X-TARGETDURATION:2\n#EXTINF:2.0,\nseg_00000.ts\n#EXT-X-ENDLIST\n',
    'master.m3u8': '#EXTM3U\n#EXT-X-STREAM-INF:BANDWIDTH=2800000,RESOLUTION=1280x720\n720p/index.m3u8\n',
  };
  let vodSize = 0;
  for (const [rel, text] of Object.entries(vodFiles)) {
    const f = ls.fileOf(`${dir}/${rel}`);
    mkdirSync(dirname(f), { recursive: true });
    writeFileSync(f, text);
    vodSize += text.length;
  }
  const asset = (type: string, key: string, size: number, metadata: unknown) => localAsset(s, row, { type, key, size, duration: 8, metadata });
  const file = await s.services.uploads.prepare(asset('room-composite', fileKey, fileSize, { layer: '0', resolution: { width: 1280, height: 720 } }), true);
  const vod = await s.services.uploads.prepare(asset('room-vod', `${dir}/master.m3u8`, vodSize, { num_layers: '1', max_width: 1280, max_height: 720 }), true);
  await s.services.liveStreams.finish(row.id, {
    vod: { asset: vod, presignedUrl: null },
    singleFiles: [{ asset: file, presignedUrl: null, layer: 0, width: 1280, height: 720 }],
    duration: 8,
    stoppedAt: new Date(),
  });
  for (const a of [file, vod]) if (a.upload_state === 'pending') await s.services.uploads.schedule(a.id);
  return { streamId: row.id, vodAssetId: vod.id, fileAssetId: file.id, fileSha256: sha256(bytes) };
}
