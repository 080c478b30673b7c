// Room rows: the queries the API, the SFU and the events share (the API object: api/presenters/rooms.ts).
import type { Db } from './db.js';
import type { RoomTable } from './schema.js';

export async function getRoomRow(db: Db, id: string): Promise<RoomTable | undefined> {
  return db.selectFrom('rooms').selectAll().where('id', '=', id).executeTakeFirst();
}
