// The meeting page: /meeting/:room_code (joins by room code) and /preview/:room_id/:role (joins with the
// `auth_token` query parameter; without one the page says so and mints nothing). Plain HTML, CSS and one ES
// module, served from src/web/meeting/ (the same files whether the server runs from src/ or dist/).
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Type } from 'typebox';
import fastifyStatic from '@fastify/static';
import type { FastifyBaseLogger, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { getRoomCode } from '../store/roomCodes.js';
import type { ApiDeps } from './types.js';

function meetingDir(): string {
  for (const rel of ['../web/meeting/', '../../../src/web/meeting/']) {
    const dir = fileURLToPath(new URL(rel, import.meta.url));
    if (existsSync(`${dir}index.html`)) return dir;
  }
  throw new Error('meeting page assets (src/web/meeting) not found');
}

// Everything the page loads comes from this server; media flows over WebRTC, signaling over /ws.
const CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data: blob:",
  "media-src 'self' blob:",
  "connect-src 'self' ws: wss:",
  "frame-ancestors 'self'",
  "base-uri 'none'",
  "form-action 'none'",
].join('; ');

/**
 * In a fleet, the node a room lives on (placed at its first join): null when it is this one, or when no
 * placement can be had (Redis unreachable), and then the page is served here as on one machine.
 */
async function otherNodeOf(deps: ApiDeps, roomId: string | undefined, log: FastifyBaseLogger): Promise<string | null> {
  if (!deps.nodes || !roomId) return null;
  try {
    const node = await deps.nodes.placeRoom(roomId);
    return node && node.id !== deps.nodes.self.id ? node.url : null;
  } catch (err) {
    log.warn({ err: err instanceof Error ? err.message : String(err) }, 'no room placement from the fleet; serving the room here');
    return null;
  }
}

export async function meetingRoutes(app: FastifyInstance, deps: ApiDeps): Promise<void> {
  const dir = meetingDir();
  // Read once: the page is small and identical for every room.
  const html = readFileSync(`${dir}index.html`, 'utf8');
  await app.register(fastifyStatic, { root: dir, prefix: '/meeting-assets/', decorateReply: false, index: false, cacheControl: true, maxAge: 0 });

  const page = { schema: { hide: true } } as const;
  const send = (reply: import('fastify').FastifyReply) =>
    reply.header('content-type', 'text/html; charset=utf-8').header('cache-control', 'no-store').header('content-security-policy', CSP).header('referrer-policy', 'no-referrer').send(html);

  // a fleet serves each room from one node: a page asked of another node is sent there, query and all
  const sendOrRedirect = async (req: FastifyRequest, reply: FastifyReply, roomId: string | undefined) => {
    const other = await otherNodeOf(deps, roomId, req.log);
    return other ? reply.header('cache-control', 'no-store').redirect(`${other}${req.url}`, 302) : send(reply);
  };
  app.get('/meeting/:room_code', { ...page, schema: { ...page.schema, params: Type.Object({ room_code: Type.String({ maxLength: 64 }) }) } }, async (req, reply) => {
    const code = deps.nodes ? await getRoomCode(deps.db, (req.params as { room_code: string }).room_code) : null;
    return sendOrRedirect(req, reply, code?.room_id);
  });
  app.get(
    '/preview/:room_id/:role',
    { ...page, schema: { ...page.schema, params: Type.Object({ room_id: Type.String({ maxLength: 64 }), role: Type.String({ maxLength: 128 }) }) } },
    async (req, reply) => sendOrRedirect(req, reply, (req.params as { room_id: string }).room_id),
  );
}
