// The meeting page: /meeting/:room_code (joins by room code) and /preview/:room_id/:role (joins with the
// `auth_token` query parameter; without one the page says so and mints nothing). Plain HTML, CSS and one ES
// module, served from src/web/meeting/ (the same files whether the server runs from src/ or dist/).
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Type } from 'typebox';
import fastifyStatic from '@fastify/static';
import type { FastifyInstance } from 'fastify';
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

export async function meetingRoutes(app: FastifyInstance, _deps: ApiDeps): Promise<void> {
  const dir = meetingDir();
  // Read once: the page is small and identical for every room.
  const html = readFileSync(`${dir}index.html`, 'utf8');
  await app.register(fastifyStatic, { root: dir, prefix: '/meeting-assets/', decorateReply: false, index: false, cacheControl: true, maxAge: 0 });

  const page = { schema: { hide: true } } as const;
  const send = (reply: import('fastify').FastifyReply) =>
    reply.header('content-type', 'text/html; charset=utf-8').header('cache-control', 'no-store').header('content-security-policy', CSP).header('referrer-policy', 'no-referrer').send(html);

  app.get('/meeting/:room_code', { ...page, schema: { ...page.schema, params: Type.Object({ room_code: Type.String({ maxLength: 64 }) }) } }, async (_req, reply) => send(reply));
  app.get(
    '/preview/:room_id/:role',
    { ...page, schema: { ...page.schema, params: Type.Object({ room_id: Type.String({ maxLength: 64 }), role: Type.String({ maxLength: 128 }) }) } },
    async (_req, reply) => send(reply),
  );
}
