// fast-check arbitraries for HTTP requests built from an OpenAPI document: each operation's path parameters,
// query parameters and JSON body, from schema-shaped values to malformed ones (wrong types, odd numbers, deep nesting).
import fc from 'fast-check';

/** Text spliced into serialized JSON as is: numbers JSON.stringify cannot write, deep nesting, poisoning keys. */
export class RawJson {
  constructor(readonly text: string) {}
}

export type Schema = Record<string, any>;

export interface Operation {
  method: string;
  path: string;
  pathParams: Array<{ name: string; schema: Schema }>;
  queryParams: Array<{ name: string; schema: Schema }>;
  body?: Schema;
}

export interface FuzzRequest {
  method: string;
  path: string;
  headers: Record<string, string>;
  body?: string;
  label: string;
}

export function operationsOf(spec: { paths: Record<string, Record<string, any>> }): Operation[] {
  const ops: Operation[] = [];
  for (const [path, methods] of Object.entries(spec.paths)) {
    for (const [method, op] of Object.entries(methods)) {
      const params: Array<{ in: string; name: string; schema?: Schema }> = op.parameters ?? [];
      ops.push({
        method: method.toUpperCase(),
        path,
        pathParams: params.filter((p) => p.in === 'path').map((p) => ({ name: p.name, schema: p.schema ?? {} })),
        queryParams: params.filter((p) => p.in === 'query').map((p) => ({ name: p.name, schema: p.schema ?? {} })),
        body: op.requestBody?.content?.['application/json']?.schema,
      });
    }
  }
  return ops;
}

/** Numbers at the edges of what JSON, JavaScript and SQL agree on. */
const oddNumberTexts = ['1e309', '-1e309', '-0', '9007199254740993', '-9007199254740993', '1e-400', '0.1e2', '1.5', '2147483648', '18446744073709551616', '1e21'];
const oddNumberStrings = [...oddNumberTexts, 'NaN', 'Infinity', '-Infinity', '0x1F', ' 10', '10 ', '1_000', '', '+5', '١٠'];
const oddStrings = ['', ' ', '\u0000', 'a\u0000b', '\n\r\t', '\ud800', '😀', '../../etc/passwd', '%E0', '%', '<script>', "' OR 1=1 --", '__proto__', 'constructor', 'null', 'true', '0'];

/** A long string without fast-check building it char by char. */
const hugeString = fc.integer({ min: 1_000, max: 100_000 }).map((n) => 'ü'.repeat(n));
const deepJson = fc
  .tuple(fc.integer({ min: 20, max: 20_000 }), fc.boolean())
  .map(([n, arrays]) => new RawJson(arrays ? '['.repeat(n) + ']'.repeat(n) : '{"a":'.repeat(n) + '1' + '}'.repeat(n)));
const poisoned = fc.constantFrom(new RawJson('{"__proto__":{"polluted":true}}'), new RawJson('{"constructor":{"prototype":{"polluted":true}}}'));

/** Any value that is probably wrong for the slot. */
export const malformedValue: fc.Arbitrary<unknown> = fc.oneof(
  { arbitrary: fc.constantFrom<unknown>(null, true, false, 0, -1, 1e300, -1e300, [], {}, [null], { '': '' }), weight: 4 },
  { arbitrary: fc.constantFrom(...oddNumberTexts).map((t) => new RawJson(t)), weight: 4 },
  { arbitrary: fc.constantFrom(...oddNumberStrings, ...oddStrings), weight: 4 },
  { arbitrary: fc.string({ unit: 'binary', maxLength: 30 }), weight: 2 },
  { arbitrary: fc.array(fc.string({ maxLength: 5 }), { maxLength: 300 }), weight: 1 },
  // the expensive ones, rarely: big enough to matter, small enough to keep the run short
  { arbitrary: hugeString, weight: 1 },
  { arbitrary: deepJson, weight: 1 },
  { arbitrary: poisoned, weight: 1 },
);

const validUrls = ['http://127.0.0.1:9/hook', 'https://127.0.0.1:9/x?y=1', 'rtmp://127.0.0.1:9/live/key', 's3://bucket/path'];

/** A value shaped by the schema (often valid), whose parts are sometimes malformed (`badness` of 10). */
export function valueFor(schema: Schema, depth = 0, badness = 2): fc.Arbitrary<unknown> {
  const shaped = shapedValue(schema, depth, badness);
  return badness > 0 ? fc.oneof({ arbitrary: shaped, weight: 10 - badness }, { arbitrary: malformedValue, weight: badness }) : shaped;
}

function shapedValue(schema: Schema, depth: number, badness: number): fc.Arbitrary<unknown> {
  const alts: Schema[] | undefined = schema.anyOf ?? schema.oneOf;
  if (alts?.length) return fc.oneof(...alts.map((s) => shapedValue(s, depth, badness)));
  if (schema.enum?.length) return fc.constantFrom(...schema.enum);
  if ('const' in schema) return fc.constant(schema.const);
  const withNull = (a: fc.Arbitrary<unknown>) => (schema.nullable ? fc.option(a, { nil: null }) : a);
  switch (schema.type) {
    case 'string':
      return withNull(stringFor(schema));
    case 'integer':
      return withNull(fc.integer({ min: Math.ceil(schema.minimum ?? -1e6), max: Math.floor(Math.min(schema.maximum ?? 1e9, 2 ** 31)) }));
    case 'number':
      return withNull(fc.double({ min: schema.minimum ?? -1e6, max: schema.maximum ?? 1e9, noNaN: true, noDefaultInfinity: true }));
    case 'boolean':
      return withNull(fc.boolean());
    case 'array':
      if (depth > 4) return fc.constant([]);
      return withNull(fc.array(valueFor(schema.items ?? {}, depth + 1, badness), { maxLength: Math.min(schema.maxItems ?? 4, 4) }));
    case 'object': {
      if (depth > 4) return fc.constant({});
      const props: Record<string, Schema> = schema.properties ?? {};
      const record = fc.record(
        Object.fromEntries(Object.entries(props).map(([k, s]) => [k, valueFor(s, depth + 1, badness)])),
        { requiredKeys: (schema.required ?? []).filter((k: string) => k in props) },
      );
      // map-like objects (roles by name, headers) and unknown keys
      const extraValue = typeof schema.additionalProperties === 'object' ? valueFor(schema.additionalProperties, depth + 1, badness) : malformedValue;
      const extras = fc.dictionary(fc.oneof(fc.constantFrom('host', 'guest', 'x', '__proto__', ''), fc.string({ maxLength: 12 })), extraValue, { maxKeys: 3 });
      return withNull(fc.tuple(record, fc.option(extras, { freq: 3 })).map(([r, e]) => (e ? { ...e, ...r } : r)));
    }
    default:
      return fc.jsonValue({ maxDepth: 2 });
  }
}

function stringFor(schema: Schema): fc.Arbitrary<string> {
  if (schema.format === 'uri') return fc.constantFrom(...validUrls);
  if (schema.format === 'date-time') return fc.date({ noInvalidDate: true, min: new Date('1970-01-01'), max: new Date('2100-01-01') }).map((d) => d.toISOString());
  if (schema.pattern) {
    const max = schema.maxLength ?? 64;
    return fc.stringMatching(new RegExp(schema.pattern)).filter((s) => s.length <= max && s.length >= (schema.minLength ?? 0));
  }
  return fc.string({ minLength: schema.minLength ?? 0, maxLength: Math.min(schema.maxLength ?? 40, 40) });
}

/** JSON text of a generated value, RawJson spliced in. */
export function toJson(value: unknown): string {
  if (value instanceof RawJson) return value.text;
  if (Array.isArray(value)) return `[${value.map(toJson).join(',')}]`;
  if (value && typeof value === 'object') return `{${Object.entries(value).map(([k, v]) => `${JSON.stringify(k)}:${toJson(v)}`).join(',')}}`;
  return JSON.stringify(value) ?? 'null';
}

/** A query or path value as text: schema-shaped, or an odd number, odd string or huge string. */
function textFor(schema: Schema, known: string[]): fc.Arbitrary<string> {
  const shaped = shapedValue(schema, 0, 0).map((v) => (typeof v === 'string' ? v : JSON.stringify(v)));
  return fc.oneof(
    { arbitrary: shaped, weight: 4 },
    ...(known.length ? [{ arbitrary: fc.constantFrom(...known), weight: 4 }] : []),
    { arbitrary: fc.constantFrom(...oddNumberStrings, ...oddStrings), weight: 3 },
    { arbitrary: fc.string({ unit: 'binary', maxLength: 20 }), weight: 1 },
    { arbitrary: fc.integer({ min: 65, max: 9000 }).map((n) => 'a'.repeat(n)), weight: 1 },
  );
}

/** Percent-encoding of the UTF-8 bytes (a lone surrogate becomes U+FFFD instead of throwing). */
function percentEncode(text: string): string {
  let out = '';
  for (const byte of Buffer.from(text, 'utf8')) {
    const c = String.fromCharCode(byte);
    out += /[A-Za-z0-9\-_.~]/.test(c) ? c : `%${byte.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return out;
}

/** Percent-encoded, or one of the raw sequences a URL may carry undecodable (kept ASCII so the client sends it). */
function urlPiece(text: fc.Arbitrary<string>): fc.Arbitrary<string> {
  return fc.oneof(
    { arbitrary: text.map(percentEncode), weight: 8 },
    { arbitrary: fc.constantFrom('%E0', '%25E0', '%', '%zz', '%00', '%2e%2e', '..', '%2F', '%C0%AE', '%ED%A0%80', '%FF%FE', '%0A', '+'), weight: 2 },
  );
}

export interface RequestContext {
  /** Known good values by parameter name (room_id → a real room), used often so calls reach deep into handlers. */
  known: Record<string, string[]>;
  /** Authorization headers and their weights; the first is the valid management token. */
  authorizations: Array<{ value: string | undefined; weight: number }>;
}

const contentTypes = ['application/json', 'application/json; charset=utf-8', 'application/json;charset=UTF-8', 'Application/JSON', 'text/plain', 'application/x-www-form-urlencoded', 'application/json; charset=latin1', 'application/octet-stream'];

/** One request for `op`: path, query, headers, body. */
export function requestFor(op: Operation, ctx: RequestContext): fc.Arbitrary<FuzzRequest> {
  const pathParts = fc.tuple(...op.pathParams.map((p) => urlPiece(textFor(p.schema, ctx.known[p.name] ?? []))));
  const query = fc.array(
    fc.oneof(
      ...op.queryParams.map((p) => fc.tuple(fc.constant(p.name), urlPiece(textFor(p.schema, ctx.known[p.name] ?? [])))),
      fc.tuple(fc.constantFrom('unknown', 'limit[]', '__proto__', 'a'.repeat(200)), urlPiece(fc.string({ maxLength: 8 }))),
    ),
    { maxLength: op.queryParams.length ? 4 : 1 },
  );
  const auth = fc.oneof(...ctx.authorizations.map((a) => ({ arbitrary: fc.constant(a.value), weight: a.weight })));
  const jsonBody = op.body ? valueFor(op.body).map(toJson) : fc.constantFrom('{}', '[]', 'null', '{"x":1}');
  const body = fc.oneof(
    { arbitrary: jsonBody.map((text) => ({ text, type: 'application/json' as string | undefined })), weight: 8 },
    { arbitrary: fc.constant({ text: undefined as string | undefined, type: 'application/json' as string | undefined }), weight: 2 },
    { arbitrary: fc.constant({ text: undefined as string | undefined, type: undefined as string | undefined }), weight: 1 },
    { arbitrary: fc.constantFrom('', ' ', '{', '{"a":}', 'nul', '"x"', '\u0000').map((text) => ({ text: text as string | undefined, type: 'application/json' as string | undefined })), weight: 1 },
    { arbitrary: fc.tuple(jsonBody, fc.constantFrom(...contentTypes)).map(([text, type]) => ({ text: text as string | undefined, type: type as string | undefined })), weight: 2 },
  );
  const bodiless = op.method === 'GET' || op.method === 'DELETE';
  return fc.tuple(pathParts, query, auth, bodiless ? fc.option(body, { freq: 8, nil: undefined }) : body).map(([parts, q, authorization, b]) => {
    let i = 0;
    const path = op.path.replace(/\{[^}]+\}/g, () => parts[i++]) + (q.length ? '?' + q.map(([k, v]) => `${percentEncode(k)}=${v}`).join('&') : '');
    const headers: Record<string, string> = {};
    if (authorization !== undefined) headers.authorization = authorization;
    if (b?.type) headers['content-type'] = b.type;
    return { method: op.method, path, headers, body: b?.text, label: `${op.method} ${op.path}` };
  });
}
