// A finished recording without a recorder: a recording row, a file moved into local storage, and the recording
// service's finish() — the same steps the recorder worker's finalize() takes.
import { randomBytes, createHash } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestServer } from './server.js';
import { objectId, rfc3339 } from '../../src/clock.js';
import { toJson } from '../../src/store/db.js';
import type { AssetTable, RecordingTable } from '../../src/store/schema.js';
import { beamKey } from '../../src/storage/local.js';
import { RecordingService } from '../../src/domain/recordingService.js';

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

export async function recordAsset(s: TestServer, roomId: string, size: number, opts: { createdAt?: string } = {}): Promise<Recorded> {
  const db = s.ctx.store.db;
  const startedMs = Date.now() - 5000;
  const at = rfc3339();
  const rec: RecordingTable = {
    id: objectId(),
    room_id: roomId,
    session_id: '',
    status: 'running',
    meeting_url: `${s.url}/preview/${roomId}/beam`,
    destination: 'default',
    asset_types: toJson(['room-composite']),
    width: 1280,
    height: 720,
    audio_only: 0,
    max_duration: 14400,
    auto_stop_timeout: 300,
    paused: 0,
    started_by: '',
    stopped_by: '',
    stop_reason: null,
    error_type: null,
    error_message: null,
    created_at: at,
    started_at: new Date(startedMs).toISOString(),
    stopped_at: null,
    updated_at: at,
  };
  await db.insertInto('recordings').values(rec).execute();
  const bytes = randomBytes(size);
  const file = join(mkdtempSync(join(tmpdir(), 'rec-')), 'joined.mp4');
  writeFileSync(file, bytes);
  const key = beamKey(s.ctx.customerId, roomId, startedMs);
  s.ctx.localStorage.put(key, file);
  const asset: AssetTable = {
    id: objectId(),
    job_id: rec.id,
    room_id: roomId,
    session_id: '',
    type: 'room-composite',
    status: 'completed',
    path: s.ctx.localStorage.pathOf(key),
    storage: 'local',
    storage_key: key,
    size,
    duration: 5,
    metadata: toJson({ resolution: { width: 1280, height: 720 } }),
    thumbnails: null,
    error_message: null,
    created_at: opts.createdAt ?? rfc3339(),
    deleted_at: null,
  };
  await new RecordingService(s.ctx).finish(rec.id, {
    asset,
    presignedUrl: s.ctx.localStorage.presign(key, 24 * 3600).url,
    stoppedAt: new Date(),
  });
  return { recordingId: rec.id, assetId: asset.id, localKey: key, bytes, sha256: sha256(bytes) };
}

export async function assetRow(s: TestServer, id: string): Promise<AssetTable> {
  return s.ctx.store.db.selectFrom('assets').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
}

export async function download(url: string): Promise<{ status: number; body: Buffer; redirected: boolean }> {
  const res = await fetch(url);
  return { status: res.status, body: Buffer.from(await res.arrayBuffer()), redirected: res.redirected };
}
