// Event rows (the domain's event log, domain/events.ts): stored in `seq` order; the webhook outbox and the
// delivery log read them back.
import type { Selectable } from 'kysely';
import type { Db } from './db.js';
import type { EventTable } from './schema.js';

export type EventRow = Selectable<EventTable>;
export type NewEvent = Pick<EventTable, 'id' | 'type' | 'room_id' | 'data' | 'created_at'>;

/** Stores one event; its `seq`. */
export async function insertEvent(db: Db, row: NewEvent): Promise<number> {
  const inserted = await db.insertInto('events').values(row).returning('seq').executeTakeFirstOrThrow();
  return Number(inserted.seq);
}

export interface EventFilter {
  type?: string;
  roomId?: string;
  afterSeq?: number;
}

/** Events in `seq` order, filtered. */
export async function listEvents(db: Db, filter: EventFilter): Promise<EventRow[]> {
  let q = db.selectFrom('events').selectAll().orderBy('seq', 'asc');
  if (filter.type) q = q.where('type', '=', filter.type);
  if (filter.roomId) q = q.where('room_id', '=', filter.roomId);
  if (filter.afterSeq !== undefined) q = q.where('seq', '>', filter.afterSeq);
  return q.execute();
}

/** The next `limit` events after `seq`, in order (the outbox's fan-out). */
export async function eventsAfter(db: Db, seq: number, limit: number): Promise<EventRow[]> {
  return db.selectFrom('events').selectAll().where('seq', '>', seq).orderBy('seq', 'asc').limit(limit).execute();
}

export async function getEvent(db: Db, id: string): Promise<EventRow | undefined> {
  return db.selectFrom('events').selectAll().where('id', '=', id).executeTakeFirst();
}

/** The stored events among `ids`, in `seq` order. */
export async function eventsByIds(db: Db, ids: string[]): Promise<EventRow[]> {
  return db.selectFrom('events').selectAll().where('id', 'in', ids).orderBy('seq', 'asc').execute();
}

/** The ids among `ids` that are stored. */
export async function storedEventIds(db: Db, ids: string[]): Promise<string[]> {
  return (await db.selectFrom('events').select('id').where('id', 'in', ids).execute()).map((e) => e.id);
}

/** The `data` text of each stored event among `ids`. */
export async function eventDataByIds(db: Db, ids: string[]): Promise<{ id: string; data: string }[]> {
  return db.selectFrom('events').select(['id', 'data']).where('id', 'in', ids).execute();
}
