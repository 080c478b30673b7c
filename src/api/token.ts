// POST /v2/token {code, user_id?} → {token}: a room code exchanged for an app token (reference §1.3).
// Public, like the reference's auth endpoint: the meeting page calls it without a management token, the code
// itself is the credential. The hidden recorder role has no codes, so it cannot be reached this way.
import { Type } from 'typebox';
import { randomUUID } from 'node:crypto';
import type { ApiDeps, ApiInstance } from './types.js';
import { errorSchema, forbidden, notFound } from './errors.js';
import { TokenBuckets, tooManyRequests } from './rateLimit.js';
import { resolveRoomCode } from '../store/roomCodes.js';
import { getRoomRow } from '../store/rooms.js';
import { getTemplate } from '../store/templates.js';
import { signAppToken } from '../auth/tokens.js';
import { isHiddenRole } from '../model/templates.js';

/** app tokens from a room code live a day, like the reference's samples */
const TOKEN_TTL_SECONDS = 24 * 3600;
/** Exchanges per client address: a burst of 30 (a class joining behind one NAT), then 30 a minute; codes cannot be probed faster. */
export const TOKEN_RATE = { capacity: 30, refillPerMinute: 30 };

const Body = Type.Object(
  {
    code: Type.String({ minLength: 1, maxLength: 64 }),
    user_id: Type.Optional(Type.String({ maxLength: 255 })),
  },
  { additionalProperties: false },
);

export function tokenRoutes(app: ApiInstance, deps: ApiDeps): void {
  const { db } = deps;
  const limiter = new TokenBuckets(TOKEN_RATE);
  app.post(
    '/v2/token',
    {
      schema: {
        tags: ['auth'],
        summary: 'Exchange a room code for an app token (no management token needed)',
        security: [],
        body: Body,
        response: { 200: Type.Object({ token: Type.String() }), 403: errorSchema, 404: errorSchema, 429: errorSchema },
      },
    },
    async (req, reply) => {
      const wait = limiter.take(req.ip);
      if (wait > 0) throw tooManyRequests(reply, wait, 'Too many token requests');
      const { code, user_id } = req.body;
      const resolved = await resolveRoomCode(db, code);
      // a disabled code answers exactly like an unknown one: which codes exist cannot be probed
      if (!resolved || isHiddenRole(resolved.role) || !resolved.enabled) throw notFound('room code', code);
      const room = await getRoomRow(db, resolved.room_id);
      if (!room) throw notFound('room', resolved.room_id);
      if (Number(room.enabled) !== 1) throw forbidden('Room is disabled', `room ${room.id} is disabled`);
      const template = await getTemplate(db, room.template_id);
      if (!template?.roles[resolved.role]) throw forbidden('Role not found', `role ${resolved.role} is no longer in the room's template`);
      const token = await signAppToken(
        { accessKey: deps.config.accessKey, appSecret: deps.config.appSecret },
        // a peer without a user id gets a fresh one, as the reference's prebuilt links do
        { room_id: room.id, role: resolved.role, user_id: user_id || randomUUID() },
        TOKEN_TTL_SECONDS,
      );
      return { token };
    },
  );
}
