// /v2/sessions: read-only history of a room's sessions and who was in them (100ms Sessions API).
import { Type } from 'typebox';
import type { ApiDeps, ApiInstance } from './types.js';
import { badRequest, notFound } from './errors.js';
import { envelope, envelopeSchema, pageQuery, utcFilter } from './pagination.js';
import { getSession, getSessionRow, listSessions } from '../store/sessions.js';
import { presentSession } from './presenters/sessions.js';
import { Id } from './schemas.js';

const PeerSchema = Type.Object({
  id: Type.String(),
  name: Type.String(),
  role: Type.String(),
  user_id: Type.String(),
  joined_at: Type.String(),
  left_at: Type.Union([Type.String(), Type.Null()]),
});
const SessionSchema = Type.Object({
  id: Type.String(),
  room_id: Type.String(),
  customer_id: Type.String(),
  active: Type.Boolean(),
  peers: Type.Record(Type.String(), PeerSchema),
  created_at: Type.String(),
  updated_at: Type.String(),
});
const ListQuery = Type.Object({
  ...pageQuery,
  room_id: Type.Optional(Id),
  active: Type.Optional(Type.Boolean()),
  after: Type.Optional(Type.String({ format: 'date-time' })),
  before: Type.Optional(Type.String({ format: 'date-time' })),
});

/** Stored timestamps are UTC RFC3339 text: normalize a bound so text comparison is time comparison. */
export function sessionRoutes(app: ApiInstance, deps: ApiDeps): void {
  const { db } = deps;

  app.get(
    '/sessions',
    { schema: { tags: ['sessions'], summary: 'List sessions, newest first', querystring: ListQuery, response: { 200: envelopeSchema(SessionSchema) } } },
    async (req) => {
      const q = req.query;
      const limit = q.limit ?? 10;
      let startAfter: { id: string; created_at: string } | undefined;
      if (q.start !== undefined) {
        startAfter = await getSessionRow(db, q.start);
        if (!startAfter) throw badRequest('Invalid start', `querystring/start ${q.start} is not a session id`);
      }
      const data = await listSessions(
        db,
        {
          roomId: q.room_id,
          active: q.active,
          after: utcFilter('after', q.after),
          before: utcFilter('before', q.before),
          limit,
          startAfter,
        },
      );
      return envelope(limit, data.map((s) => presentSession(s, deps.customerId)), (s) => s.id);
    },
  );

  app.get(
    '/sessions/:id',
    { schema: { tags: ['sessions'], summary: 'Get a session', params: Type.Object({ id: Id }), response: { 200: SessionSchema } } },
    async (req) => {
      const session = await getSession(db, req.params.id);
      if (!session) throw notFound('session', req.params.id);
      return presentSession(session, deps.customerId);
    },
  );
}
