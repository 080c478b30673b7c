// Schema migrations, run at every start. Append new ones; never edit one that has shipped.
import type { Kysely, Migration } from 'kysely';
import type { DbKind } from './db.js';

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
  };
}
