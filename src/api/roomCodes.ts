// /v2/room-codes: short codes that open a room with a role (reference §6.7).
// - POST /room-codes/room/:room_id returns one enabled code per role of the room's template, reusing a role's
//   existing enabled code (so calling it twice does not pile up codes) and creating codes for roles without one.
// - POST /room-codes/room/:room_id/role/:role always mints a NEW code (e.g. to replace a leaked one, then
//   disable the old one).
// The recorder's hidden role never gets a code: the room-wide create skips it and the per-role create answers
// 404 "role not found", as if it did not exist.
import { Type } from 'typebox';
import type { ApiDeps, ApiInstance } from './types.js';
import { ApiError, badRequest, forbidden, notFound } from './errors.js';
import { envelope, envelopeSchema, pageQuery } from './pagination.js';
import { getRoomRow } from '../store/rooms.js';
import { getTemplate } from '../store/templates.js';
import { createRoomCode, enabledRoomCodes, getRoomCode, listRoomCodes, ROOM_CODE_PATTERN, setRoomCodeEnabled } from '../store/roomCodes.js';
import { rowToRoomCode, type RoomCode } from './presenters/roomCodes.js';
import { isHiddenRole } from '../model/templates.js';
import type { RoomTable } from '../store/schema.js';
import { Id } from './schemas.js';

const RoleName = Type.String({ pattern: '^[a-zA-Z0-9_-]{1,128}$' });
const Code = Type.String({ pattern: ROOM_CODE_PATTERN });
// `enum` instead of `type: boolean`: the app's ajv coerces types ("true" → true), and this body must be a real boolean.
const StrictBoolean = Type.Unsafe<boolean>({ enum: [true, false], description: 'true or false (JSON boolean)' });

const RoomCodeSchema = Type.Object({
  code: Type.String(),
  room_id: Type.String(),
  role: Type.String(),
  enabled: Type.Boolean(),
  created_at: Type.String(),
  updated_at: Type.String(),
});
const RoomParams = Type.Object({ room_id: Id });
const RoleParams = Type.Object({ room_id: Id, role: RoleName });
const ListQuery = Type.Object({
  ...pageQuery,
  role: Type.Optional(RoleName),
  enabled: Type.Optional(Type.Boolean()),
});
const UpdateBody = Type.Object({ code: Code, enabled: StrictBoolean }, { additionalProperties: false });

export function roomCodeRoutes(app: ApiInstance, deps: ApiDeps): void {
  const { db } = deps;

  async function roomOrThrow(roomId: string): Promise<RoomTable> {
    const room = await getRoomRow(db, roomId);
    if (!room) throw notFound('room', roomId);
    return room;
  }

  /** Codes open a room for joining: a disabled room gets none (403, as the reference does). */
  async function enabledRoomRoles(roomId: string): Promise<{ room: RoomTable; roles: string[] }> {
    const room = await roomOrThrow(roomId);
    if (Number(room.enabled) !== 1) throw forbidden('Room is disabled', `room ${roomId} is disabled: enable it before creating room codes`);
    const template = await getTemplate(db, room.template_id);
    if (!template) throw new ApiError(500, 'Room template missing', [`template ${room.template_id} of room ${roomId} does not exist`]);
    return { room, roles: Object.keys(template.roles).filter((r) => !isHiddenRole(r)) };
  }

  app.post(
    '/room-codes/room/:room_id',
    {
      schema: {
        tags: ['room-codes'],
        summary: 'Room codes for every role of the room (existing enabled codes are reused)',
        params: RoomParams,
        response: { 200: Type.Object({ data: Type.Array(RoomCodeSchema) }) },
      },
    },
    async (req) => {
      const { room, roles } = await enabledRoomRoles(req.params.room_id);
      const existing = await enabledRoomCodes(db, room.id);
      const data: RoomCode[] = [];
      for (const role of roles) {
        const mine = existing.find((c) => c.role === role);
        data.push(rowToRoomCode(mine ?? (await createRoomCode(db, room.id, role))));
      }
      return { data };
    },
  );

  app.post(
    '/room-codes/room/:room_id/role/:role',
    { schema: { tags: ['room-codes'], summary: 'A new room code for one role', params: RoleParams, response: { 200: RoomCodeSchema } } },
    async (req) => {
      const { room, roles } = await enabledRoomRoles(req.params.room_id);
      if (!roles.includes(req.params.role)) {
        throw new ApiError(404, 'role not found', [`role ${req.params.role} is not a role of room ${room.id}'s template`]);
      }
      return rowToRoomCode(await createRoomCode(db, room.id, req.params.role));
    },
  );

  app.get(
    '/room-codes/room/:room_id',
    {
      schema: {
        tags: ['room-codes'],
        summary: 'List the room codes of a room, newest first',
        params: RoomParams,
        querystring: ListQuery,
        response: { 200: envelopeSchema(RoomCodeSchema) },
      },
    },
    async (req) => {
      const room = await roomOrThrow(req.params.room_id);
      const q = req.query;
      const limit = q.limit ?? 10;
      let startAfter: { code: string; created_at: string } | undefined;
      if (q.start !== undefined) {
        const from = await getRoomCode(db, q.start);
        if (!from || from.room_id !== room.id) throw badRequest('Invalid start', `querystring/start ${q.start} is not a room code of room ${room.id}`);
        startAfter = from;
      }
      const data = await listRoomCodes(db, { roomId: room.id, role: q.role, enabled: q.enabled, limit, startAfter });
      return envelope(limit, data.map(rowToRoomCode), (c) => c.code);
    },
  );

  app.post(
    '/room-codes/code',
    { schema: { tags: ['room-codes'], summary: 'Enable or disable a room code', body: UpdateBody, response: { 200: RoomCodeSchema } } },
    async (req) => {
      const updated = await setRoomCodeEnabled(db, req.body.code, req.body.enabled);
      if (!updated) throw notFound('room code', req.body.code);
      return rowToRoomCode(updated);
    },
  );
}
