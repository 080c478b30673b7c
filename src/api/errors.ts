// The one error body of the API: {code, message, details} (reference §1.4). Domain errors (domain/errors.ts)
// get their HTTP status here and nowhere else.
import type { FastifyError, FastifyInstance } from 'fastify';
import { DomainError, type DomainErrorKind } from '../domain/errors.js';
import { isDiskFull } from '../storage/diskSpace.js';

const STATUS_OF: Record<DomainErrorKind, number> = { InvalidInput: 400, Forbidden: 403, NotFound: 404, Conflict: 409, Unavailable: 503 };

export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly details: string[] = [],
  ) {
    super(message);
  }
}

export const badRequest = (message: string, ...details: string[]) => new ApiError(400, message, details);
export const notFound = (what: string, id: string) => new ApiError(404, `${what} not found`, [`${what} ${id} not found`]);
export const conflict = (message: string, ...details: string[]) => new ApiError(409, message, details);
export const forbidden = (message: string, ...details: string[]) => new ApiError(403, message, details);

export interface ErrorBody {
  code: number;
  message: string;
  details: string[];
}

/** Schema for documenting error responses in OpenAPI. */
export const errorSchema = {
  type: 'object',
  properties: {
    code: { type: 'integer' },
    message: { type: 'string' },
    details: { type: 'array', items: { type: 'string' } },
  },
  required: ['code', 'message', 'details'],
} as const;

export function installErrorHandlers(app: FastifyInstance): void {
  app.setErrorHandler((err: FastifyError | ApiError | DomainError, req, reply) => {
    if (err instanceof ApiError) {
      return reply.status(err.status).send({ code: err.status, message: err.message, details: err.details });
    }
    if (err instanceof DomainError) {
      const status = STATUS_OF[err.kind];
      return reply.status(status).send({ code: status, message: err.message, details: err.details });
    }
    if (err instanceof URIError) {
      // a decodeURIComponent of client text (path, query, header) that is not valid percent-encoding
      return reply.status(400).send({ code: 400, message: 'Malformed percent-encoding', details: ['url: malformed percent-encoding'] });
    }
    const fe = err as FastifyError;
    if (fe.validation) {
      // Name the field: "body/name must match pattern …", "querystring/limit must be <= 100".
      const where = fe.validationContext ?? 'request';
      const details = fe.validation.map((v) => {
        const missing = (v.params as { missingProperty?: string } | undefined)?.missingProperty;
        const extra = (v.params as { additionalProperty?: string } | undefined)?.additionalProperty;
        const path = `${where}${v.instancePath || ''}${missing ? `/${missing}` : ''}${extra ? `/${extra}` : ''}`;
        return `${path} ${v.message ?? 'is invalid'}`.trim();
      });
      return reply.status(400).send({ code: 400, message: 'Invalid request', details });
    }
    if (isDiskFull(err)) {
      // a write the full data disk refused: it may pass once space is freed (the reserve is released for it)
      req.log.warn({ err }, 'a request could not be written: the data disk is full');
      return reply.status(503).send({ code: 503, message: 'Data disk full', details: ['the server could not write this change: its data disk is full; try again when space is freed'] });
    }
    const status = fe.statusCode ?? 500;
    if (status >= 400 && status < 500) {
      // Fastify's own client errors: bad JSON, wrong content type, body too large…
      return reply.status(status).send({ code: status, message: fe.message, details: [fe.code ?? 'client error'] });
    }
    req.log.error({ err }, 'unhandled error');
    return reply.status(500).send({ code: 500, message: 'Internal server error', details: [] });
  });
  app.setNotFoundHandler((req, reply) => {
    reply.status(404).send({ code: 404, message: 'Not found', details: [`${req.method} ${req.url.split('?')[0]} is not a route`] });
  });
}
