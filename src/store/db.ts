// One query layer (Kysely) over SQLite (embedded default) and PostgreSQL (DATABASE_URL=postgres://…).
import { closeSync, existsSync, openSync } from 'node:fs';
import { join } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { Kysely, Migrator, PostgresDialect, SqliteDialect, sql } from 'kysely';
import pg from 'pg';
import type { Database } from './schema.js';
import { migrations, type DbKind } from './migrations.js';
import { RejectNulText } from './textGuard.js';
import { restrictFile } from '../config.js';

export type Db = Kysely<Database>;
export type { DbKind };

export interface Store {
  db: Db;
  kind: DbKind;
  close(): Promise<void>;
}

// node-pg returns int8 (bigint columns, COUNT) as strings; our values (sizes, counts) fit in a double.
pg.types.setTypeParser(20, (v: string) => Number(v));

export async function openStore(databaseUrl: string | null, dataDir: string): Promise<Store> {
  let db: Db;
  let kind: DbKind;
  if (databaseUrl && /^postgres(ql)?:\/\//.test(databaseUrl)) {
    kind = 'postgres';
    db = new Kysely<Database>({
      dialect: new PostgresDialect({ pool: new pg.Pool({ connectionString: databaseUrl, max: 10 }) }),
    });
  } else {
    if (databaseUrl && !/^(sqlite|file):/.test(databaseUrl)) {
      throw new Error('DATABASE_URL must start with postgres:// (or be unset for SQLite)');
    }
    kind = 'sqlite';
    const file = databaseUrl ? databaseUrl.replace(/^(sqlite|file):(\/\/)?/, '') : join(dataDir, 'roomcast.db');
    // the database holds storage secrets and webhook headers: this user's only. SQLite gives the -wal and
    // -shm files the database file's mode, so creating it 0600 (an empty file is a new database) covers them.
    if (file !== ':memory:') {
      if (!existsSync(file)) closeSync(openSync(file, 'a', 0o600));
      for (const f of [file, `${file}-wal`, `${file}-shm`]) if (existsSync(f)) restrictFile(f);
    }
    const sqlite = new BetterSqlite3(file);
    sqlite.pragma('journal_mode = WAL');
    sqlite.pragma('busy_timeout = 5000');
    sqlite.pragma('foreign_keys = ON');
    db = new Kysely<Database>({ dialect: new SqliteDialect({ database: sqlite }) });
  }
  // same text rules on both backends: PostgreSQL refuses U+0000 in text, so nobody stores it
  db = db.withPlugin(new RejectNulText());
  await migrate(db, kind);
  return { db, kind, close: () => db.destroy() };
}

/** the advisory lock fleet nodes that start together take around the migrations (any fixed number) */
const MIGRATION_LOCK = 72_062_214;

async function migrate(db: Db, kind: DbKind): Promise<void> {
  if (kind !== 'postgres') return migrateNow(db, kind);
  // nodes of a fleet starting at once: one migrates, the others wait and then find nothing left to do
  // (a session lock, so every statement runs on the one connection that holds it)
  await db.connection().execute(async (conn) => {
    await sql`select pg_advisory_lock(${MIGRATION_LOCK})`.execute(conn);
    try {
      await migrateNow(conn, kind);
    } finally {
      await sql`select pg_advisory_unlock(${MIGRATION_LOCK})`.execute(conn);
    }
  });
}

async function migrateNow(db: Db, kind: DbKind): Promise<void> {
  const migrator = new Migrator({
    db,
    provider: { getMigrations: async () => migrations(kind) },
  });
  const { error, results } = await migrator.migrateToLatest();
  const failed = results?.find((r) => r.status === 'Error');
  if (error || failed) {
    throw new Error(`database migration failed${failed ? ` at ${failed.migrationName}` : ''}: ${String(error)}`);
  }
}

/** JSON text columns */
export function toJson(v: unknown): string {
  return JSON.stringify(v ?? null);
}
export function fromJson<T>(text: string | null | undefined, fallback: T): T {
  if (text === null || text === undefined || text === '') return fallback;
  return JSON.parse(text) as T;
}
export const bit = (b: boolean | undefined): number => (b ? 1 : 0);

/** One cheap query: the database answers (the health check). */
export async function checkDatabase(db: Db): Promise<void> {
  await db.selectFrom('templates').select('id').limit(1).execute();
}
