// How requests are read before any handler runs: JSON bodies (an empty one is no body, as 100ms accepts),
// bodiless calls to routes with an all-optional body, numbers no handler can use exactly, raw-socket refusals.
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Socket } from 'node:net';
import { badRequest } from './errors.js';

/**
 * application/json (any charset parameter) through Fastify's own poisoning-safe parser, except that an empty
 * or whitespace-only body means "no body": 100ms clients send `Content-Type: application/json` on bodiless POSTs.
 */
export function installJsonParser(app: FastifyInstance): void {
  const parseJson = app.getDefaultJsonParser('error', 'error');
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (req, body, done) => {
    if ((body as string).trim() === '') return done(null, undefined);
    return parseJson(req, body as string, done);
  });
}

/** preValidation: a route whose schema has a body, called without one (or with `null`), validates `{}`. */
async function absentBodyIsEmptyObject(req: FastifyRequest): Promise<void> {
  if ((req.body === undefined || req.body === null) && req.routeOptions.schema?.body) req.body = {};
}

/** Where in `value` a number is non-finite or beyond ±2^53 (where integers stop being exact), walked without recursion. */
function unsafeNumberAt(value: unknown, root: string): string | null {
  const pending: Array<[unknown, string]> = [[value, root]];
  while (pending.length > 0) {
    const [v, path] = pending.pop()!;
    if (typeof v === 'number' && !(Number.isFinite(v) && Math.abs(v) <= Number.MAX_SAFE_INTEGER)) return path;
    if (v && typeof v === 'object') for (const [k, child] of Object.entries(v)) pending.push([child, `${path}/${k}`]);
  }
  return null;
}

/**
 * preHandler: ajv coerces the query string "1e309" to Infinity and then skips the bounds checks of integer
 * fields, and JSON's 9007199254740993 arrives as …992; no such number may reach a handler (SQL LIMIT, Date math).
 */
async function rejectUnsafeNumbers(req: FastifyRequest): Promise<void> {
  for (const [where, values] of [['querystring', req.query], ['params', req.params], ['body', req.body]] as const) {
    const at = unsafeNumberAt(values, where);
    if (at) throw badRequest('Invalid request', `${at} must be a finite number between -2^53 and 2^53`);
  }
}

export function installInputHooks(app: FastifyInstance): void {
  app.addHook('preValidation', absentBodyIsEmptyObject);
  app.addHook('preHandler', rejectUnsafeNumbers);
}

/** Fastify's clientErrorHandler: what Node's HTTP parser refuses (control characters, huge headers) gets the API's error body. */
export function clientErrorHandler(err: Error & { code?: string }, socket: Socket): void {
  if (err.code === 'ECONNRESET' || socket.destroyed) return;
  const [status, reason, message] =
    err.code === 'HPE_HEADER_OVERFLOW'
      ? [431, 'Request Header Fields Too Large', 'Request line or headers too large']
      : err.code === 'ERR_HTTP_REQUEST_TIMEOUT'
        ? [408, 'Request Timeout', 'Request timed out']
        : [400, 'Bad Request', 'Malformed HTTP request'];
  const body = JSON.stringify({ code: status, message, details: [err.code ?? 'client error'] });
  if (!socket.writable) return void socket.destroy(err);
  // end() flushes the answer; reading on drains what the client still sends, so closing is no RST that would
  // discard the answer before the client reads it (Node 24 closes faster than 20 did)
  socket.end(`HTTP/1.1 ${status} ${reason}\r\nContent-Length: ${Buffer.byteLength(body)}\r\nContent-Type: application/json\r\nConnection: close\r\n\r\n${body}`);
  socket.resume();
  setTimeout(() => socket.destroy(), 2000).unref();
}
