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

/** The columns of every recorder job table (recordings, live streams): the job's state and how it ended. */
export interface JobColumns {
  id: string;
  room_id: string;
  session_id: string;
  status: string;
  meeting_url: string;
  destination: string;
  max_duration: number;
  auto_stop_timeout: number;
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

/** One row per composite recording job. */
export interface RecordingTable extends JobColumns {
  asset_types: string; // JSON string[]
  width: number;
  height: number;
  audio_only: number;
  paused: number;
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
  // Upload to the customer's store (migration 0003_asset_uploads): optional so writers that predate them compile.
  /** key of the copy on this machine's disk; kept after the upload so old local URLs can redirect */
  local_key?: string | null;
  /** the server (host:asset root) whose disk holds the local copy */
  local_node?: string | null;
  /** null = stays local; pending | done | failed (failed uploads keep being retried, slowly) */
  upload_state?: string | null;
  upload_attempts?: number;
  upload_next_at?: string | null;
  upload_error?: string | null;
  /** multipart upload id, so a retry resumes the parts already sent */
  upload_id?: string | null;
  /** JSON of the store the asset went to (type, location, region, endpoint, credentials) */
  upload_target?: string | null;
  uploaded_at?: string | null;
  /** 1 once beam.recording.success went out for this asset */
  event_sent?: number;
}

/** One webhook delivery: an event for one target URL; `seq` orders deliveries within a lane (a room). */
export interface WebhookDeliveryTable {
  seq: Generated<number>;
  id: string;
  event_id: string;
  event_seq: number;
  event_type: string;
  event_created_at: string;
  room_id: string | null;
  lane: string;
  url: string;
  headers: string; // JSON
  workflow_id: string | null;
  status: string; // pending | success | failed
  attempts: number;
  next_attempt_at: string | null;
  last_status_code: number | null;
  last_error: string | null;
  created_at: string;
  updated_at: string;
  completed_at: string | null;
}

/** Dispatcher cursor and the API-set workspace webhook (name → JSON value). */
export interface WebhookStateTable {
  name: string;
  value: string;
}

/** A webhook replay request and the filters it ran with. */
export interface WebhookReplayTable {
  id: string;
  filters: string; // JSON
  total: number;
  created_at: string;
}

/** One row per live stream (HLS) job; its layers and recording flags are a snapshot of the destination at start. */
export interface LiveStreamTable extends JobColumns {
  /** random path segment of the playback URL: the URL is the capability */
  playback_key: string;
  hls_vod: number;
  single_file_per_layer: number;
  layers: string; // JSON HlsLayer[]
  /** JSON HlsLayer[] of the layers to record, null = all */
  recording_layers: string | null;
  playlist_type: string; // live | event
  num_playlist_segments: number;
  video_frame_rate: number;
  metadata_insertion: number;
  recording_paused: number;
}

/** Timed metadata sent to a running live stream; players see it as EXT-X-DATERANGE. */
export interface TimedMetadataTable {
  id: string;
  stream_id: string;
  payload: string;
  duration: number;
  created_at: string;
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
  webhook_deliveries: WebhookDeliveryTable;
  webhook_state: WebhookStateTable;
  webhook_replays: WebhookReplayTable;
  live_streams: LiveStreamTable;
  timed_metadata: TimedMetadataTable;
}
