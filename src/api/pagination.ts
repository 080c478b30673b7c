// The list envelope {limit, data, last} with `limit` 10–100 (default 10) and `start` = previous `last`.
// Lists run newest first over ids that sort by creation time, so `start` is a plain id bound.
import { Type } from 'typebox';
import { badRequest } from './errors.js';

export const pageQuery = {
  limit: Type.Optional(Type.Integer({ minimum: 10, maximum: 100, default: 10 })),
  start: Type.Optional(Type.String({ minLength: 1, maxLength: 64 })),
};

export interface ListEnvelope<T> {
  limit: number;
  data: T[];
  last?: string;
}

export function envelope<T>(limit: number, data: T[], idOf: (item: T) => string): ListEnvelope<T> {
  const out: ListEnvelope<T> = { limit, data };
  if (data.length > 0) out.last = idOf(data[data.length - 1]);
  return out;
}

export function envelopeSchema(item: ReturnType<typeof Type.Object> | ReturnType<typeof Type.Any>) {
  return Type.Object({ limit: Type.Integer(), data: Type.Array(item), last: Type.Optional(Type.String()) });
}

/** A date-time filter as stored text; RFC3339 allows a leap second (…:60Z) that Date cannot represent → 400. */
export function utcFilter(field: string, value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  const t = new Date(value);
  if (Number.isNaN(t.getTime())) throw badRequest('Invalid date', `querystring/${field} ${value} is not a representable time`);
  return t.toISOString();
}
