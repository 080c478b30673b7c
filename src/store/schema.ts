import type { Generated } from 'kysely';
// Table shapes, shared by SQLite and PostgreSQL. Portable column choices keep one set of queries:
// JSON as text, booleans as 0/1 integers, timestamps as RFC3339 text (they sort as text).
export interface TemplateTable {
  id: string;
  name: string;
  customer_id: string;
  roles: string; // JSON: Record<roleName, Role>
  settings: string; // JSON
  destinations: string; // JSON
  recordings: string; // JSON: RecordingConfig[]
  created_at: string;
  updated_at: string;
}

export interface RoomTable {
  id: string;
  name: string;
  /** lower-cased name: room names are case-insensitive and unique */
  name_key: string;
  description: string;
  enabled: number;
  template_id: string;
  region: string;
  large_room: number;
  size: number;
  max_duration_seconds: number;
  recording_info: string | null; // JSON
  webhook: string | null; // JSON
  polls: string; // JSON
  created_at: string;
  updated_at: string;
}

export interface RoomCodeTable {
  code: string;
  room_id: string;
  role: string;
  enabled: number;
  created_at: string;
  updated_at: string;
}

export interface SessionTable {
  id: string;
  room_id: string;
  active: number;
  created_at: string;
  updated_at: string;
  ended_at: string | null;
}

export interface PeerTable {
  id: string;
  session_id: string;
  room_id: string;
  user_id: string;
  name: string;
  role: string;
  user_data: string;
  type: string;
  joined_at: string;
  left_at: string | null;
  leave_reason: string | null;
  leave_message: string | null;
}

/** Every domain event, in the order it happened; the webhook outbox delivers from here. */
export interface EventTable {
  seq: Generated<number>;
  id: string;
  type: string;
  room_id: string | null;
  data: string; // JSON
  created_at: string;
}

/** Work for recorder workers: in-process now, a fleet later. The job's own state lives in its table. */
export interface JobQueueTable {
  id: string;
  kind: string;
  job_id: string;
  state: string; // queued | claimed | done
  claimed_by: string | null;
  heartbeat_at: string | null;
  attempts: number;
  created_at: string;
  updated_at: string;
}

export interface RecordingTable {
  id: string;
  room_id: string;
  session_id: string;
  status: string;
  meeting_url: string;
  destination: string;
  asset_types: string; // JSON string[]
  width: number;
  height: number;
  audio_only: number;
  max_duration: number;
  auto_stop_timeout: number;
  paused: number;
  started_by: string;
  stopped_by: string;
  stop_reason: string | null;
  error_type: string | null;
  error_message: string | null;
  created_at: string;
  started_at: string | null;
  stopped_at: string | null;
  updated_at: string;
}

export interface AssetTable {
  id: string;
  job_id: string;
  room_id: string;
  session_id: string;
  type: string;
  status: string;
  path: string;
  storage: string;
  storage_key: string;
  size: number;
  duration: number;
  metadata: string; // JSON
  thumbnails: string | null; // JSON
  error_message: string | null;
  created_at: string;
  deleted_at: string | null;
}

export interface Database {
  recordings: RecordingTable;
  assets: AssetTable;
  templates: TemplateTable;
  rooms: RoomTable;
  room_codes: RoomCodeTable;
  sessions: SessionTable;
  peers: PeerTable;
  events: EventTable;
  job_queue: JobQueueTable;
}
