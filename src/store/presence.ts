// Who is in a room, as the auto-stop rules ask it: from the peers table, hidden peers (the recorder) excluded.
import type { Db } from './db.js';
import { isHiddenRole, RECORDER_ROLE } from '../model/templates.js';

/**
 * When the room last became empty of visible peers, in ms since the epoch (0: nobody ever left), or null
 * while a visible peer is in it.
 */
export async function roomEmptySince(db: Db, roomId: string): Promise<number | null> {
  const present = await db.selectFrom('peers').select(['role']).where('room_id', '=', roomId).where('left_at', 'is', null).execute();
  if (present.some((p) => !isHiddenRole(p.role))) return null;
  const lastLeft = await db
    .selectFrom('peers')
    .select((eb) => eb.fn.max('left_at').as('left'))
    .where('room_id', '=', roomId)
    .where('role', '!=', RECORDER_ROLE)
    .executeTakeFirst();
  return lastLeft?.left ? Date.parse(String(lastLeft.left)) : 0;
}
