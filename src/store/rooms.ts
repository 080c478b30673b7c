// Room rows: the queries the API, the SFU and the events share (the API object: api/presenters/rooms.ts).
import { bit, type Db } from './db.js';
import type { RoomTable } from './schema.js';

export async function getRoomRow(db: Db, id: string): Promise<RoomTable | undefined> {
  return db.selectFrom('rooms').selectAll().where('id', '=', id).executeTakeFirst();
}

/** The room's own webhook (JSON text), or null/undefined: none set, or no such room. */
export async function getRoomWebhook(db: Db, id: string): Promise<string | null | undefined> {
  return (await db.selectFrom('rooms').select('webhook').where('id', '=', id).executeTakeFirst())?.webhook;
}

/** The room with this name, case-insensitively (`name_key`). */
export async function getRoomByName(db: Db, name: string): Promise<RoomTable | undefined> {
  return db.selectFrom('rooms').selectAll().where('name_key', '=', name.toLowerCase()).executeTakeFirst();
}

/** The id of the room with this name, case-insensitively (`name_key`). */
export async function roomIdByName(db: Db, name: string): Promise<string | undefined> {
  return (await db.selectFrom('rooms').select('id').where('name_key', '=', name.toLowerCase()).executeTakeFirst())?.id;
}

export async function insertRoom(db: Db, row: RoomTable): Promise<void> {
  await db.insertInto('rooms').values(row).execute();
}

export async function updateRoom(db: Db, id: string, set: Partial<RoomTable>): Promise<void> {
  await db.updateTable('rooms').set(set).where('id', '=', id).execute();
}

export interface RoomFilter {
  enabled: boolean;
  name?: string;
  templateId?: string;
  /** RFC3339 bounds on created_at (exclusive) */
  after?: string;
  before?: string;
  /** ids below this one (the previous page's last) */
  belowId?: string;
  limit: number;
}

/** Rooms newest id first. */
export async function listRooms(db: Db, f: RoomFilter): Promise<RoomTable[]> {
  let sel = db.selectFrom('rooms').selectAll().where('enabled', '=', bit(f.enabled));
  if (f.name) sel = sel.where('name_key', '=', f.name.toLowerCase());
  if (f.templateId) sel = sel.where('template_id', '=', f.templateId);
  if (f.after) sel = sel.where('created_at', '>', f.after);
  if (f.before) sel = sel.where('created_at', '<', f.before);
  if (f.belowId) sel = sel.where('id', '<', f.belowId);
  return sel.orderBy('id', 'desc').limit(f.limit).execute();
}
