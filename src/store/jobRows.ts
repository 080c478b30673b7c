// Row operations every recorder job table shares (recordings, live streams): a new row's shared columns, read,
// list, the conditional status move, the stop request, and the room/template/session lookups their events
// need. One implementation for both tables; the moves are conditional on the status read, so concurrent
// moves never overwrite each other.
import type { Db } from './db.js';
import type { JobColumns, LiveStreamTable, RecordingTable } from './schema.js';
import { getTemplate } from './templates.js';
import { objectId, rfc3339 } from '../clock.js';
import { notFound } from '../domain/errors.js';
import { ACTIVE_STATUSES, canMove, type JobStatus } from '../model/jobStatus.js';

export type JobTableName = 'recordings' | 'live_streams';
export type RowOf<T extends JobTableName> = T extends 'recordings' ? RecordingTable : LiveStreamTable;

/** GET /recordings, GET /live-streams filters; `start` is the id to continue after (ids sort by time). */
export interface JobListFilter {
  room_id?: string;
  session_id?: string;
  status?: string;
  start?: string;
}

/** What a start decides of the columns every job has; newJobColumns fills in the rest. */
export type JobStart = Pick<JobColumns, 'room_id' | 'meeting_url' | 'destination' | 'max_duration' | 'auto_stop_timeout' | 'started_by'>;

/** A new job's shared columns: a new id, the room's active session, `starting`, not stopped. */
export async function newJobColumns(db: Db, start: JobStart): Promise<JobColumns> {
  const at = rfc3339();
  return {
    ...start,
    id: objectId(),
    session_id: await activeSessionId(db, start.room_id),
    status: 'starting',
    stopped_by: '',
    stop_reason: null,
    error_type: null,
    error_message: null,
    created_at: at,
    started_at: null,
    stopped_at: null,
    updated_at: at,
  };
}

export class JobRows<T extends JobTableName> {
  constructor(
    private readonly db: Db,
    private readonly table: T,
  ) {}

  // Kysely cannot type a query over "one of two tables"; both have every column used here.
  private get t(): 'recordings' {
    return this.table as 'recordings';
  }

  async get(id: string): Promise<RowOf<T> | undefined> {
    return (await this.db.selectFrom(this.t).selectAll().where('id', '=', id).executeTakeFirst()) as RowOf<T> | undefined;
  }

  async insert(row: RowOf<T>): Promise<void> {
    await this.db.insertInto(this.t).values(row as RecordingTable).execute();
  }

  /** The room's jobs that are not finished (starting, running, stopping, post-processing). */
  async active(roomId: string): Promise<RowOf<T>[]> {
    return (await this.db.selectFrom(this.t).selectAll().where('room_id', '=', roomId).where('status', 'in', ACTIVE_STATUSES).execute()) as RowOf<T>[];
  }

  /** Jobs in every room that are starting or running: what the auto-stop rules look at. */
  async startingOrRunning(): Promise<RowOf<T>[]> {
    return (await this.db.selectFrom(this.t).selectAll().where('status', 'in', ['starting', 'running']).execute()) as RowOf<T>[];
  }

  /** A job started before anyone joined belongs to the session that opens when someone does. */
  async linkSession(roomId: string, sessionId: string): Promise<void> {
    await this.db.updateTable(this.t).set({ session_id: sessionId }).where('room_id', '=', roomId).where('session_id', '=', '').where('status', 'in', ['starting', 'running']).execute();
  }

  /** A page of jobs, newest first. */
  async list(filter: JobListFilter, limit: number): Promise<RowOf<T>[]> {
    let sel = this.db.selectFrom(this.t).selectAll();
    if (filter.room_id) sel = sel.where('room_id', '=', filter.room_id);
    if (filter.session_id) sel = sel.where('session_id', '=', filter.session_id);
    if (filter.status) sel = sel.where('status', '=', filter.status);
    if (filter.start) sel = sel.where('id', '<', filter.start);
    return (await sel.orderBy('id', 'desc').limit(limit).execute()) as RowOf<T>[];
  }

  /** Moves a job's status if the move is allowed from where it is now; returns the row after, or null. */
  async move(id: string, to: JobStatus, set: Partial<RowOf<T>> = {}): Promise<RowOf<T> | null> {
    const r = await this.get(id);
    if (!r || !canMove(r.status as JobStatus, to)) return null;
    const next = { ...set, status: to, updated_at: rfc3339() };
    const res = await this.db.updateTable(this.t).set(next as Partial<RecordingTable>).where('id', '=', id).where('status', '=', r.status).executeTakeFirst();
    if (Number(res.numUpdatedRows) === 0) return null;
    return { ...r, ...next };
  }

  /** Asks a starting/running job to stop; a worker's concurrent move wins (the row as it is then). */
  async requestStop(r: RowOf<T>, reason: string, stoppedBy: string): Promise<RowOf<T>> {
    const set = { status: 'stopping', stop_reason: reason, stopped_by: stoppedBy, updated_at: rfc3339() };
    const res = await this.db.updateTable(this.t).set(set).where('id', '=', r.id).where('status', '=', r.status).executeTakeFirst();
    if (Number(res.numUpdatedRows) === 0) return (await this.get(r.id)) ?? r;
    return { ...r, ...set };
  }
}

export async function roomAndTemplate(db: Db, roomId: string) {
  const room = await db.selectFrom('rooms').selectAll().where('id', '=', roomId).executeTakeFirst();
  if (!room) throw notFound('room', roomId);
  const template = await getTemplate(db, room.template_id);
  if (!template) throw new Error(`template ${room.template_id} of room ${roomId} is missing`);
  return { room, template };
}

/** The job's room and status, or undefined when `table` has no such job. */
export async function jobRoomAndStatus(db: Db, table: JobTableName, id: string): Promise<{ room_id: string; status: string } | undefined> {
  return db.selectFrom(table).select(['room_id', 'status']).where('id', '=', id).executeTakeFirst();
}

export async function activeSessionId(db: Db, roomId: string): Promise<string> {
  const s = await db.selectFrom('sessions').select('id').where('room_id', '=', roomId).where('active', '=', 1).executeTakeFirst();
  return s?.id ?? '';
}

export async function sessionStartedAt(db: Db, sessionId: string): Promise<string | null> {
  if (!sessionId) return null;
  return (await db.selectFrom('sessions').select('created_at').where('id', '=', sessionId).executeTakeFirst())?.created_at ?? null;
}
