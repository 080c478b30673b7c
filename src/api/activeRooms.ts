// GET /v2/active-rooms/:room_id: who is in a room right now (the reference's active-rooms shape).
// The hidden recorder is not listed. A room without an open session answers 404. In a fleet, a room on
// another node is asked of that node (its answer passed on as it is).
import { Type } from 'typebox';
import type { ApiDeps, ApiInstance } from './types.js';
import { ApiError, errorSchema, notFound } from './errors.js';
import { getRoomRow } from '../store/rooms.js';

const Params = Type.Object({ room_id: Type.String({ pattern: '^[a-zA-Z0-9_-]{1,64}$' }) });
const ActivePeerSchema = Type.Object({
  id: Type.String(),
  name: Type.String(),
  role: Type.String(),
  user_id: Type.String(),
  joined_at: Type.String(),
});
const ActiveRoomSchema = Type.Object({
  id: Type.String(),
  name: Type.String(),
  session_id: Type.String(),
  peers: Type.Record(Type.String(), ActivePeerSchema),
});

export function activeRoomRoutes(app: ApiInstance, deps: ApiDeps): void {
  app.get(
    '/active-rooms/:room_id',
    {
      schema: {
        tags: ['sessions'],
        summary: 'The peers in a room right now',
        params: Params,
        response: { 200: ActiveRoomSchema, 404: errorSchema },
      },
    },
    async (req, reply) => {
      const { room_id } = req.params;
      const room = await getRoomRow(deps.db, room_id);
      if (!room) throw notFound('room', room_id);
      const home = deps.nodes ? await deps.nodes.roomNode(room_id).catch(() => null) : null;
      if (home && home.id !== deps.nodes!.self.id) {
        const res = await fetch(`${home.url}/v2/active-rooms/${encodeURIComponent(room_id)}`, { headers: { authorization: req.headers.authorization ?? '' }, signal: AbortSignal.timeout(10_000) });
        // the other node authenticates the same management token; its status and body go back unchanged
        return reply.code(res.status as 200 | 404).send(await res.json());
      }
      const session = deps.sfu.activeSession(room_id);
      if (!session) throw new ApiError(404, 'Room is not active', [`room ${room_id} has no peers`]);
      const peers: Record<string, { id: string; name: string; role: string; user_id: string; joined_at: string }> = {};
      for (const p of deps.sfu.activePeers(room_id)) {
        peers[p.id] = { id: p.id, name: p.name, role: p.role, user_id: p.user_id, joined_at: p.joined_at };
      }
      return { id: room.id, name: room.name, session_id: session.id, peers };
    },
  );
}
