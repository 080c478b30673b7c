// Room rows: the queries the API, the SFU and the events share (the API object: api/presenters/rooms.ts).
import type { Db } from './db.js';
import type { RoomTable } from './schema.js';

export async function getRoomRow(db: Db, id: string): Promise<RoomTable | undefined> {
  return db.selectFrom('rooms').selectAll().where('id', '=', id).executeTakeFirst();
}

/** The room's own webhook (JSON text), or null/undefined: none set, or no such room. */
export async function getRoomWebhook(db: Db, id: string): Promise<string | null | undefined> {
  return (await db.selectFrom('rooms').select('webhook').where('id', '=', id).executeTakeFirst())?.webhook;
}
