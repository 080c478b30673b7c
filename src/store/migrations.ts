// Schema migrations, run at every start. Append new ones; never edit one that has shipped.
import { sql, type Kysely, type Migration } from 'kysely';

/** The SQL dialect a migration writes for. */
export type DbKind = 'sqlite' | 'postgres';

// Kysely's schema builder is untyped here on purpose: migrations describe tables as they were then.
type AnyDb = Kysely<any>;

export function migrations(kind: DbKind): Record<string, Migration> {
  const serial = kind === 'postgres' ? 'serial' : 'integer';
  return {
    '0001_control_plane': {
      async up(db: AnyDb) {
        await db.schema
          .createTable('templates')
          .addColumn('id', 'varchar(32)', (c) => c.primaryKey())
          .addColumn('name', 'varchar(255)', (c) => c.notNull().unique())
          .addColumn('customer_id', 'varchar(64)', (c) => c.notNull())
          .addColumn('roles', 'text', (c) => c.notNull())
          .addColumn('settings', 'text', (c) => c.notNull())
          .addColumn('destinations', 'text', (c) => c.notNull())
          .addColumn('recordings', 'text', (c) => c.notNull())
          .addColumn('created_at', 'varchar(40)', (c) => c.notNull())
          .addColumn('updated_at', 'varchar(40)', (c) => c.notNull())
          .execute();
        await db.schema
          .createTable('rooms')
          .addColumn('id', 'varchar(32)', (c) => c.primaryKey())
          .addColumn('name', 'varchar(255)', (c) => c.notNull())
          .addColumn('name_key', 'varchar(255)', (c) => c.notNull().unique())
          .addColumn('description', 'text', (c) => c.notNull())
          .addColumn('enabled', 'integer', (c) => c.notNull())
          .addColumn('template_id', 'varchar(32)', (c) => c.notNull().references('templates.id'))
          .addColumn('region', 'varchar(16)', (c) => c.notNull())
          .addColumn('large_room', 'integer', (c) => c.notNull())
          .addColumn('size', 'integer', (c) => c.notNull())
          .addColumn('max_duration_seconds', 'integer', (c) => c.notNull())
          .addColumn('recording_info', 'text')
          .addColumn('webhook', 'text')
          .addColumn('polls', 'text', (c) => c.notNull())
          .addColumn('created_at', 'varchar(40)', (c) => c.notNull())
          .addColumn('updated_at', 'varchar(40)', (c) => c.notNull())
          .execute();
        await db.schema.createIndex('rooms_template').on('rooms').column('template_id').execute();
        await db.schema
          .createTable('room_codes')
          .addColumn('code', 'varchar(32)', (c) => c.primaryKey())
          .addColumn('room_id', 'varchar(32)', (c) => c.notNull().references('rooms.id'))
          .addColumn('role', 'varchar(128)', (c) => c.notNull())
          .addColumn('enabled', 'integer', (c) => c.notNull())
          .addColumn('created_at', 'varchar(40)', (c) => c.notNull())
          .addColumn('updated_at', 'varchar(40)', (c) => c.notNull())
          .execute();
        await db.schema.createIndex('room_codes_room').on('room_codes').columns(['room_id', 'role']).execute();
        await db.schema
          .createTable('sessions')
          .addColumn('id', 'varchar(32)', (c) => c.primaryKey())
          .addColumn('room_id', 'varchar(32)', (c) => c.notNull().references('rooms.id'))
          .addColumn('active', 'integer', (c) => c.notNull())
          .addColumn('created_at', 'varchar(40)', (c) => c.notNull())
          .addColumn('updated_at', 'varchar(40)', (c) => c.notNull())
          .addColumn('ended_at', 'varchar(40)')
          .execute();
        await db.schema.createIndex('sessions_room').on('sessions').columns(['room_id', 'active']).execute();
        await db.schema
          .createTable('peers')
          .addColumn('id', 'varchar(64)', (c) => c.primaryKey())
          .addColumn('session_id', 'varchar(32)', (c) => c.notNull().references('sessions.id'))
          .addColumn('room_id', 'varchar(32)', (c) => c.notNull())
          .addColumn('user_id', 'varchar(255)', (c) => c.notNull())
          .addColumn('name', 'varchar(255)', (c) => c.notNull())
          .addColumn('role', 'varchar(128)', (c) => c.notNull())
          .addColumn('user_data', 'text', (c) => c.notNull())
          .addColumn('type', 'varchar(16)', (c) => c.notNull())
          .addColumn('joined_at', 'varchar(40)', (c) => c.notNull())
          .addColumn('left_at', 'varchar(40)')
          .addColumn('leave_reason', 'varchar(64)')
          .addColumn('leave_message', 'text')
          .execute();
        await db.schema.createIndex('peers_session').on('peers').column('session_id').execute();
        await db.schema
          .createTable('events')
          .addColumn('seq', serial, (c) => (kind === 'postgres' ? c.primaryKey() : c.primaryKey().autoIncrement()))
          .addColumn('id', 'varchar(64)', (c) => c.notNull().unique())
          .addColumn('type', 'varchar(64)', (c) => c.notNull())
          .addColumn('room_id', 'varchar(32)')
          .addColumn('data', 'text', (c) => c.notNull())
          .addColumn('created_at', 'varchar(40)', (c) => c.notNull())
          .execute();
        await db.schema
          .createTable('job_queue')
          .addColumn('id', 'varchar(32)', (c) => c.primaryKey())
          .addColumn('kind', 'varchar(32)', (c) => c.notNull())
          .addColumn('job_id', 'varchar(32)', (c) => c.notNull())
          .addColumn('state', 'varchar(16)', (c) => c.notNull())
          .addColumn('claimed_by', 'varchar(128)')
          .addColumn('heartbeat_at', 'varchar(40)')
          .addColumn('attempts', 'integer', (c) => c.notNull())
          .addColumn('created_at', 'varchar(40)', (c) => c.notNull())
          .addColumn('updated_at', 'varchar(40)', (c) => c.notNull())
          .execute();
        await db.schema.createIndex('job_queue_state').on('job_queue').columns(['state', 'created_at']).execute();
      },
    },
    '0002_recordings_and_assets': {
      async up(db: AnyDb) {
        // One row per recording job (composite recording, live stream): the job's whole state lives here.
        await db.schema
          .createTable('recordings')
          .addColumn('id', 'varchar(32)', (c) => c.primaryKey())
          .addColumn('room_id', 'varchar(32)', (c) => c.notNull().references('rooms.id'))
          .addColumn('session_id', 'varchar(32)', (c) => c.notNull())
          .addColumn('status', 'varchar(24)', (c) => c.notNull())
          .addColumn('meeting_url', 'text', (c) => c.notNull())
          .addColumn('destination', 'varchar(255)', (c) => c.notNull())
          .addColumn('asset_types', 'text', (c) => c.notNull())
          .addColumn('width', 'integer', (c) => c.notNull())
          .addColumn('height', 'integer', (c) => c.notNull())
          .addColumn('audio_only', 'integer', (c) => c.notNull())
          .addColumn('max_duration', 'integer', (c) => c.notNull())
          .addColumn('auto_stop_timeout', 'integer', (c) => c.notNull())
          .addColumn('paused', 'integer', (c) => c.notNull())
          .addColumn('started_by', 'varchar(64)', (c) => c.notNull())
          .addColumn('stopped_by', 'varchar(64)', (c) => c.notNull())
          .addColumn('stop_reason', 'varchar(64)')
          .addColumn('error_type', 'varchar(64)')
          .addColumn('error_message', 'text')
          .addColumn('created_at', 'varchar(40)', (c) => c.notNull())
          .addColumn('started_at', 'varchar(40)')
          .addColumn('stopped_at', 'varchar(40)')
          .addColumn('updated_at', 'varchar(40)', (c) => c.notNull())
          .execute();
        await db.schema.createIndex('recordings_room').on('recordings').columns(['room_id', 'status']).execute();
        await db.schema
          .createTable('assets')
          .addColumn('id', 'varchar(32)', (c) => c.primaryKey())
          .addColumn('job_id', 'varchar(32)', (c) => c.notNull())
          .addColumn('room_id', 'varchar(32)', (c) => c.notNull())
          .addColumn('session_id', 'varchar(32)', (c) => c.notNull())
          .addColumn('type', 'varchar(32)', (c) => c.notNull())
          .addColumn('status', 'varchar(16)', (c) => c.notNull())
          .addColumn('path', 'text', (c) => c.notNull())
          /** where the bytes are: 'local' (DATA_DIR/assets/<key>) or an upload type */
          .addColumn('storage', 'varchar(16)', (c) => c.notNull())
          .addColumn('storage_key', 'text', (c) => c.notNull())
          .addColumn('size', 'bigint', (c) => c.notNull())
          .addColumn('duration', 'integer', (c) => c.notNull())
          .addColumn('metadata', 'text', (c) => c.notNull())
          .addColumn('thumbnails', 'text')
          .addColumn('error_message', 'text')
          .addColumn('created_at', 'varchar(40)', (c) => c.notNull())
          .addColumn('deleted_at', 'varchar(40)')
          .execute();
        await db.schema.createIndex('assets_job').on('assets').column('job_id').execute();
        await db.schema.createIndex('assets_room').on('assets').columns(['room_id', 'session_id']).execute();
      },
    },
    '0004_live_streams': {
      async up(db: AnyDb) {
        await db.schema
          .createTable('live_streams')
          .addColumn('id', 'varchar(32)', (c) => c.primaryKey())
          .addColumn('room_id', 'varchar(32)', (c) => c.notNull().references('rooms.id'))
          .addColumn('session_id', 'varchar(32)', (c) => c.notNull())
          .addColumn('status', 'varchar(24)', (c) => c.notNull())
          .addColumn('meeting_url', 'text', (c) => c.notNull())
          .addColumn('destination', 'varchar(255)', (c) => c.notNull())
          .addColumn('playback_key', 'varchar(64)', (c) => c.notNull())
          .addColumn('hls_vod', 'integer', (c) => c.notNull())
          .addColumn('single_file_per_layer', 'integer', (c) => c.notNull())
          .addColumn('layers', 'text', (c) => c.notNull())
          .addColumn('recording_layers', 'text')
          .addColumn('playlist_type', 'varchar(16)', (c) => c.notNull())
          .addColumn('num_playlist_segments', 'integer', (c) => c.notNull())
          .addColumn('video_frame_rate', 'integer', (c) => c.notNull())
          .addColumn('metadata_insertion', 'integer', (c) => c.notNull())
          .addColumn('max_duration', 'integer', (c) => c.notNull())
          .addColumn('auto_stop_timeout', 'integer', (c) => c.notNull())
          .addColumn('recording_paused', 'integer', (c) => c.notNull())
          .addColumn('started_by', 'varchar(64)', (c) => c.notNull())
          .addColumn('stopped_by', 'varchar(64)', (c) => c.notNull())
          .addColumn('stop_reason', 'varchar(64)')
          .addColumn('error_type', 'varchar(64)')
          .addColumn('error_message', 'text')
          .addColumn('created_at', 'varchar(40)', (c) => c.notNull())
          .addColumn('started_at', 'varchar(40)')
          .addColumn('stopped_at', 'varchar(40)')
          .addColumn('updated_at', 'varchar(40)', (c) => c.notNull())
          .execute();
        await db.schema.createIndex('live_streams_room').on('live_streams').columns(['room_id', 'status']).execute();
        // At most one active live stream per room, also when two starts race (partial unique index:
        // same syntax on SQLite and PostgreSQL).
        await sql`create unique index live_streams_one_active on live_streams (room_id) where status in ('starting', 'running', 'stopping', 'post_processing')`.execute(db);
        await db.schema
          .createTable('timed_metadata')
          .addColumn('id', 'varchar(32)', (c) => c.primaryKey())
          .addColumn('stream_id', 'varchar(32)', (c) => c.notNull().references('live_streams.id'))
          .addColumn('payload', 'text', (c) => c.notNull())
          .addColumn('duration', 'integer', (c) => c.notNull())
          .addColumn('created_at', 'varchar(40)', (c) => c.notNull())
          .execute();
        await db.schema.createIndex('timed_metadata_stream').on('timed_metadata').columns(['stream_id', 'created_at']).execute();
      },
    },
    '0003_asset_uploads': {
      async up(db: AnyDb) {
        // An asset recorded to this disk, then uploaded to the customer's store: the upload's state lives on
        // the asset row, so a restart resumes it. SQLite adds one column per statement.
        const add = (name: string, type: 'text' | 'integer' | 'varchar(16)' | 'varchar(40)', notNullDefault?: number) =>
          db.schema
            .alterTable('assets')
            .addColumn(name, type, (c) => (notNullDefault === undefined ? c : c.notNull().defaultTo(notNullDefault)))
            .execute();
        await add('local_key', 'text');
        // which server's disk holds the local copy (servers sharing one database each upload their own)
        await add('local_node', 'text');
        await add('upload_state', 'varchar(16)');
        await add('upload_attempts', 'integer', 0);
        await add('upload_next_at', 'varchar(40)');
        await add('upload_error', 'text');
        await add('upload_id', 'text');
        await add('upload_target', 'text');
        await add('uploaded_at', 'varchar(40)');
        await add('event_sent', 'integer', 0);
        await db.schema.createIndex('assets_upload').on('assets').columns(['upload_state', 'upload_next_at']).execute();
        await db.schema.createIndex('assets_local_key').on('assets').column('local_key').execute();
      },
    },
    '0003_webhooks': {
      async up(db: AnyDb) {
        await db.schema
          .createTable('webhook_deliveries')
          .addColumn('seq', serial, (c) => (kind === 'postgres' ? c.primaryKey() : c.primaryKey().autoIncrement()))
          .addColumn('id', 'varchar(32)', (c) => c.notNull().unique())
          .addColumn('event_id', 'varchar(64)', (c) => c.notNull())
          .addColumn('event_seq', 'integer', (c) => c.notNull())
          .addColumn('event_type', 'varchar(64)', (c) => c.notNull())
          .addColumn('event_created_at', 'varchar(40)', (c) => c.notNull())
          .addColumn('room_id', 'varchar(32)')
          /** deliveries of one lane (a room, or the workspace for room-less events) go out in seq order */
          .addColumn('lane', 'varchar(64)', (c) => c.notNull())
          .addColumn('url', 'text', (c) => c.notNull())
          .addColumn('headers', 'text', (c) => c.notNull())
          .addColumn('workflow_id', 'varchar(64)')
          .addColumn('status', 'varchar(16)', (c) => c.notNull())
          .addColumn('attempts', 'integer', (c) => c.notNull())
          .addColumn('next_attempt_at', 'varchar(40)')
          .addColumn('last_status_code', 'integer')
          .addColumn('last_error', 'text')
          .addColumn('created_at', 'varchar(40)', (c) => c.notNull())
          .addColumn('updated_at', 'varchar(40)', (c) => c.notNull())
          .addColumn('completed_at', 'varchar(40)')
          .execute();
        await db.schema.createIndex('webhook_deliveries_lane').on('webhook_deliveries').columns(['status', 'lane', 'seq']).execute();
        await db.schema.createIndex('webhook_deliveries_time').on('webhook_deliveries').columns(['event_created_at']).execute();
        await db.schema.createIndex('webhook_deliveries_event').on('webhook_deliveries').columns(['event_id']).execute();
        await db.schema
          .createTable('webhook_state')
          .addColumn('name', 'varchar(64)', (c) => c.primaryKey())
          .addColumn('value', 'text', (c) => c.notNull())
          .execute();
        await db.schema
          .createTable('webhook_replays')
          .addColumn('id', 'varchar(64)', (c) => c.primaryKey())
          .addColumn('filters', 'text', (c) => c.notNull())
          .addColumn('total', 'integer', (c) => c.notNull())
          .addColumn('created_at', 'varchar(40)', (c) => c.notNull())
          .execute();
        // Events stored before webhooks existed are history, not news: the dispatcher starts after them.
        const last = await db.selectFrom('events').select((eb) => eb.fn.max('seq').as('seq')).executeTakeFirst();
        await db.insertInto('webhook_state').values({ name: 'cursor', value: String(Number(last?.seq ?? 0)) }).execute();
      },
    },
  };
}
