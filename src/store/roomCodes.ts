// Room codes (reference §6.7): short codes bound to a room and a role, exchanged for an app token by the
// meeting page. Codes do not expire; they are disabled instead.
import { randomInt } from 'node:crypto';
import type { Db } from './db.js';
import { bit } from './db.js';
import type { RoomCodeTable } from './schema.js';
import { rfc3339 } from '../clock.js';

/** Three dash-separated groups of 3–4 lowercase letters, like `wpi-srjb-wer`. */
export const ROOM_CODE_PATTERN = '^[a-z]{3,4}-[a-z]{3,4}-[a-z]{3,4}$';

const LETTERS = 'abcdefghijklmnopqrstuvwxyz';

/** 9–12 random letters from the CSPRNG: at least 26^9 (~2^42) codes, so guessing one is impractical. */
export function generateRoomCode(): string {
  const group = () => {
    const len = 3 + randomInt(2);
    let s = '';
    for (let i = 0; i < len; i++) s += LETTERS[randomInt(26)];
    return s;
  };
  return `${group()}-${group()}-${group()}`;
}

/** Inserts a new enabled code for room+role; a collision with an existing code is retried with a fresh one. */
export async function createRoomCode(db: Db, roomId: string, role: string): Promise<RoomCodeTable> {
  for (let attempt = 0; ; attempt++) {
    const at = rfc3339();
    const row: RoomCodeTable = { code: generateRoomCode(), room_id: roomId, role, enabled: 1, created_at: at, updated_at: at };
    try {
      await db.insertInto('room_codes').values(row).execute();
      return row;
    } catch (err) {
      // The unique-violation error differs between SQLite and PostgreSQL; asking the table is portable.
      const taken = await db.selectFrom('room_codes').select('code').where('code', '=', row.code).executeTakeFirst();
      if (!taken || attempt >= 5) throw err;
    }
  }
}

export async function getRoomCode(db: Db, code: string): Promise<RoomCodeTable | null> {
  const r = await db.selectFrom('room_codes').selectAll().where('code', '=', code).executeTakeFirst();
  return r ?? null;
}

export async function setRoomCodeEnabled(db: Db, code: string, enabled: boolean): Promise<RoomCodeTable | null> {
  await db.updateTable('room_codes').set({ enabled: bit(enabled), updated_at: rfc3339() }).where('code', '=', code).execute();
  return getRoomCode(db, code);
}

export interface RoomCodeFilter {
  roomId: string;
  role?: string;
  enabled?: boolean;
  limit: number;
  /** the previous page's last code */
  startAfter?: { code: string; created_at: string };
}

/** Newest first; codes made in the same millisecond are ordered by code, so the page bound is (created_at, code). */
export async function listRoomCodes(db: Db, f: RoomCodeFilter): Promise<RoomCodeTable[]> {
  let q = db.selectFrom('room_codes').selectAll().where('room_id', '=', f.roomId);
  if (f.role !== undefined) q = q.where('role', '=', f.role);
  if (f.enabled !== undefined) q = q.where('enabled', '=', bit(f.enabled));
  const s = f.startAfter;
  if (s) {
    q = q.where((eb) => eb.or([eb('created_at', '<', s.created_at), eb.and([eb('created_at', '=', s.created_at), eb('code', '<', s.code)])]));
  }
  return q.orderBy('created_at', 'desc').orderBy('code', 'desc').limit(f.limit).execute();
}

/** The meeting page's token exchange: which room and role a code opens, or null for an unknown code. */
export async function resolveRoomCode(db: Db, code: string): Promise<{ room_id: string; role: string; enabled: boolean } | null> {
  const c = await getRoomCode(db, code);
  // pg and SQLite both hand back the 0/1 integer; compare by value so a driver returning a string still works
  return c ? { room_id: c.room_id, role: c.role, enabled: Number(c.enabled) === 1 } : null;
}

/** The room's enabled codes, oldest first (by code within a millisecond). */
export async function enabledRoomCodes(db: Db, roomId: string): Promise<RoomCodeTable[]> {
  return db.selectFrom('room_codes').selectAll().where('room_id', '=', roomId).where('enabled', '=', 1).orderBy('created_at', 'asc').orderBy('code', 'asc').execute();
}
