// Room rows → the API's room object (reference §6.6): secrets in the recording info and webhook headers masked.
import { fromJson } from '../../store/db.js';
import type { RoomTable } from '../../store/schema.js';
import { maskSecret } from '../../model/secrets.js';

export interface RoomWebhook {
  url: string;
  headers?: Record<string, string>;
}

export interface Room {
  id: string;
  name: string;
  enabled: boolean;
  description: string;
  customer_id: string;
  customer: string;
  app_id: string;
  recording_info: RecordingInfo | null;
  recording_source_template: boolean;
  template_id: string;
  template: string;
  region: string;
  large_room: boolean;
  size: number;
  max_duration_seconds: number;
  polls: unknown[];
  webhook: RoomWebhook | null;
  created_at: string;
  updated_at: string;
  key: string;
}

interface RecordingInfo {
  enabled?: boolean;
  upload_info?: { credentials?: { key?: string; secret?: string }; [k: string]: unknown };
  [k: string]: unknown;
}

/** The room-level upload secret is kept but never shown in full. */
function presentRecordingInfo(info: RecordingInfo | null): RecordingInfo | null {
  const secret = info?.upload_info?.credentials?.secret;
  if (!info || secret === undefined) return info;
  const upload = info.upload_info!;
  return { ...info, upload_info: { ...upload, credentials: { ...upload.credentials, secret: maskSecret(secret) } } };
}

/** Webhook header values are credentials more often than not: shown masked, like the workspace webhook's. */
function presentWebhook(w: RoomWebhook | null): RoomWebhook | null {
  if (!w?.headers) return w;
  return { ...w, headers: Object.fromEntries(Object.entries(w.headers).map(([k, v]) => [k, maskSecret(v)])) };
}

export function rowToRoom(r: RoomTable, ids: { customerId: string; appId: string }, templateName: string): Room {
  const recordingInfo = presentRecordingInfo(fromJson<RecordingInfo | null>(r.recording_info, null));
  return {
    id: r.id,
    name: r.name,
    enabled: r.enabled === 1,
    description: r.description,
    customer_id: ids.customerId,
    customer: ids.customerId,
    app_id: ids.appId,
    recording_info: recordingInfo,
    recording_source_template: recordingInfo === null,
    template_id: r.template_id,
    template: templateName,
    region: r.region,
    large_room: r.large_room === 1,
    size: r.size,
    max_duration_seconds: r.max_duration_seconds,
    polls: fromJson(r.polls, []),
    webhook: presentWebhook(fromJson<RoomWebhook | null>(r.webhook, null)),
    created_at: r.created_at,
    updated_at: r.updated_at,
    key: `${ids.customerId}:${r.name}`,
  };
}
