// Room-code rows → the API's room-code object (reference §6.7).
import type { RoomCodeTable } from '../../store/schema.js';

export interface RoomCode {
  code: string;
  room_id: string;
  role: string;
  enabled: boolean;
  created_at: string;
  updated_at: string;
}

export function rowToRoomCode(r: RoomCodeTable): RoomCode {
  return {
    code: r.code,
    room_id: r.room_id,
    role: r.role,
    // pg and SQLite both hand back the 0/1 integer; compare by value so a driver returning a string still works
    enabled: Number(r.enabled) === 1,
    created_at: r.created_at,
    updated_at: r.updated_at,
  };
}
