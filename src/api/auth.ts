// Every management route needs a management token (reference §1.1); app tokens never pass here.
import type { FastifyReply, FastifyRequest } from 'fastify';
import { TokenError, verifyToken, type TokenKeys } from '../auth/tokens.js';

function deny(reply: FastifyReply, status: 401 | 403, detail: string) {
  const message = status === 401 ? 'Token validation error' : 'Token not permitted';
  return reply.status(status).send({ code: status, message, details: [detail] });
}

export function requireManagementToken(keys: TokenKeys) {
  return async function managementAuth(req: FastifyRequest, reply: FastifyReply) {
    const header = req.headers.authorization;
    if (!header) return deny(reply, 401, 'not found');
    const m = /^Bearer\s+(\S+)$/i.exec(header);
    if (!m) return deny(reply, 401, 'authorization header must be "Bearer <token>"');
    try {
      const token = await verifyToken(keys, m[1]);
      if (token.type !== 'management') return deny(reply, 403, 'app tokens cannot call the management API');
    } catch (err) {
      if (err instanceof TokenError) return deny(reply, err.status, err.detail);
      throw err;
    }
  };
}
