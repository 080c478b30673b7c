// /v2/rooms: create (same name returns the existing room), get, list, update / enable / disable (reference §6.6).
import { Type, type Static } from 'typebox';
import type { ApiDeps, ApiInstance } from './types.js';
import { badRequest, conflict, notFound } from './errors.js';
import { envelope, envelopeSchema, pageQuery, utcFilter } from './pagination.js';
import { bit, fromJson, toJson } from '../store/db.js';
import { getRoomByName, getRoomRow, insertRoom, listRooms, roomIdByName, updateRoom } from '../store/rooms.js';
import { rowToRoom, type Room, type RoomWebhook } from './presenters/rooms.js';
import { getTemplate, getTemplateByName } from '../store/templates.js';
import { DEFAULT_TEMPLATE_NAME } from '../model/templates.js';
import { maskSecret, SECRET_MASK } from '../model/secrets.js';
import { objectId, rfc3339 } from '../clock.js';
import type { RoomTable } from '../store/schema.js';
import { Id } from './schemas.js';
import { refusePrivateEndpoint } from '../storage/endpointGuard.js';

const RoomName = Type.String({ minLength: 1, maxLength: 255, pattern: '^[a-zA-Z0-9.:_-]+$' });
const Webhook = Type.Object(
  {
    url: Type.String({ format: 'uri', pattern: '^https?://', maxLength: 2048 }),
    headers: Type.Optional(Type.Record(Type.String(), Type.String())),
  },
  { additionalProperties: false },
);
const RecordingInfo = Type.Object(
  {
    enabled: Type.Optional(Type.Boolean()),
    upload_info: Type.Optional(
      Type.Object({
        type: Type.Union([Type.Literal('s3'), Type.Literal('gs'), Type.Literal('oss'), Type.Literal('azure')]),
        location: Type.String({ minLength: 1 }),
        prefix: Type.Optional(Type.String()),
        options: Type.Optional(Type.Object({ region: Type.Optional(Type.String()), endpoint: Type.Optional(Type.String()) })),
        credentials: Type.Optional(Type.Object({ key: Type.Optional(Type.String()), secret: Type.Optional(Type.String()) })),
      }),
    ),
  },
  { additionalProperties: false },
);
const Region = Type.Union([Type.Literal('in'), Type.Literal('us'), Type.Literal('eu'), Type.Literal('auto')]);

const roomFields = {
  description: Type.Optional(Type.String({ maxLength: 1000 })),
  template_id: Type.Optional(Id),
  recording_info: Type.Optional(RecordingInfo),
  region: Type.Optional(Region),
  large_room: Type.Optional(Type.Boolean()),
  size: Type.Optional(Type.Integer({ minimum: 0, maximum: 20000 })),
  max_duration_seconds: Type.Optional(Type.Integer({ minimum: 120, maximum: 43200 })),
  webhook: Type.Optional(Webhook),
  polls: Type.Optional(Type.Array(Type.Any())),
};
const CreateRoom = Type.Object(
  { name: Type.Optional(RoomName), template: Type.Optional(Type.Any()), ...roomFields },
  { additionalProperties: false },
);
const UpdateRoom = Type.Object(
  { name: Type.Optional(RoomName), enabled: Type.Optional(Type.Boolean()), ...roomFields },
  { additionalProperties: false },
);
const RoomParams = Type.Object({ room_id: Id });
const ListRooms = Type.Object({
  ...pageQuery,
  enabled: Type.Optional(Type.Boolean({ default: true })),
  after: Type.Optional(Type.String({ format: 'date-time' })),
  before: Type.Optional(Type.String({ format: 'date-time' })),
  name: Type.Optional(Type.String({ maxLength: 255 })),
  template_id: Type.Optional(Id),
});
export const RoomSchema = Type.Object({ id: Type.String(), name: Type.String() }, { additionalProperties: true });

type CreateBody = Static<typeof CreateRoom>;
type UpdateBody = Static<typeof UpdateRoom>;

function checkSize(body: { large_room?: boolean; size?: number }, current?: RoomTable) {
  const large = body.large_room ?? current?.large_room === 1;
  if (body.size !== undefined && !large && body.size > 2500) {
    throw badRequest('Invalid room size', 'body/size must be <= 2500 unless large_room is true');
  }
}

/** A masked value sent back (as GET shows it) stands for the stored one; any other masked-looking value is refused. */
function unmask(sent: string, stored: string | undefined, field: string): string {
  if (!sent.startsWith(SECRET_MASK)) return sent;
  if (stored !== undefined && maskSecret(stored) === sent) return stored;
  throw badRequest('Invalid secret value', `${field} is a masked value that does not match the stored one: send the full value`);
}

/** The body with masked webhook header values and upload secret replaced by the stored ones. */
function keepStoredSecrets<B extends CreateBody | UpdateBody>(body: B, current: RoomTable | undefined): B {
  const out = { ...body };
  if (body.webhook?.headers) {
    const stored = fromJson<RoomWebhook | null>(current?.webhook, null)?.headers ?? {};
    const headers = Object.fromEntries(Object.entries(body.webhook.headers).map(([k, v]) => [k, unmask(v, stored[k], `body/webhook/headers/${k}`)]));
    out.webhook = { ...body.webhook, headers };
  }
  const secret = body.recording_info?.upload_info?.credentials?.secret;
  if (secret !== undefined && body.recording_info?.upload_info) {
    type Info = { upload_info?: { credentials?: { secret?: string } } };
    const stored = fromJson<Info | null>(current?.recording_info, null)?.upload_info?.credentials?.secret;
    const upload = body.recording_info.upload_info;
    out.recording_info = { ...body.recording_info, upload_info: { ...upload, credentials: { ...upload.credentials, secret: unmask(secret, stored, 'body/recording_info/upload_info/credentials/secret') } } };
  }
  return out;
}

export function roomRoutes(app: ApiInstance, deps: ApiDeps): void {
  const { db } = deps;
  const ids = { customerId: deps.customerId, appId: deps.appId };

  async function present(row: RoomTable): Promise<Room> {
    const t = await getTemplate(db, row.template_id);
    return rowToRoom(row, ids, t?.name ?? '');
  }

  async function templateIdFor(given: string | undefined): Promise<string> {
    if (given) {
      const t = await getTemplate(db, given);
      if (!t) throw badRequest('Template not found', `body/template_id ${given} does not exist`);
      return t.id;
    }
    const t = await getTemplateByName(db, DEFAULT_TEMPLATE_NAME);
    if (!t) throw new Error('default template missing');
    return t.id;
  }

  /** A room's own storage endpoint follows the same private-address rule as a template's. */
  async function guardEndpoint(body: CreateBody | UpdateBody): Promise<void> {
    const endpoint = body.recording_info?.upload_info?.options?.endpoint;
    await refusePrivateEndpoint(endpoint, deps.config.storageAllowPrivate, 'body/recording_info/upload_info/options/endpoint');
  }

  function changes(body: CreateBody | UpdateBody): Partial<RoomTable> {
    const set: Partial<RoomTable> = {};
    if (body.description !== undefined) set.description = body.description;
    if (body.recording_info !== undefined) set.recording_info = toJson(body.recording_info);
    if (body.region !== undefined) set.region = body.region;
    if (body.large_room !== undefined) set.large_room = bit(body.large_room);
    if (body.size !== undefined) set.size = body.size;
    if (body.max_duration_seconds !== undefined) set.max_duration_seconds = body.max_duration_seconds;
    if (body.webhook !== undefined) set.webhook = toJson(body.webhook);
    if (body.polls !== undefined) set.polls = toJson(body.polls);
    return set;
  }

  app.post(
    '/rooms',
    { schema: { tags: ['rooms'], summary: 'Create a room (a room with the same name is returned, updated)', body: CreateRoom, response: { 200: RoomSchema } } },
    async (req) => {
      let body = req.body;
      if (body.template !== undefined) throw badRequest('Invalid field template', 'body/template is not supported: use template_id');
      checkSize(body);
      await guardEndpoint(body);
      if (body.recording_info?.upload_info && !body.recording_info.upload_info.location) {
        throw badRequest('Bucket location missing', 'body/recording_info/upload_info/location is required');
      }
      const template_id = body.template_id ? await templateIdFor(body.template_id) : undefined;
      const name = body.name ?? `room-${objectId()}`;
      const existing = await getRoomByName(db, name);
      const at = rfc3339();
      body = keepStoredSecrets(body, existing);
      if (existing) {
        const set = { ...changes(body), ...(template_id ? { template_id } : {}), updated_at: at };
        await updateRoom(db, existing.id, set);
        return present({ ...existing, ...set });
      }
      const row: RoomTable = {
        id: objectId(),
        name,
        name_key: name.toLowerCase(),
        description: '',
        enabled: 1,
        template_id: template_id ?? (await templateIdFor(undefined)),
        region: 'auto',
        large_room: 0,
        size: 0,
        max_duration_seconds: 43200,
        recording_info: null,
        webhook: null,
        polls: '[]',
        created_at: at,
        updated_at: at,
        ...changes(body),
      };
      await insertRoom(db, row);
      return present(row);
    },
  );

  app.get(
    '/rooms/:room_id',
    { schema: { tags: ['rooms'], summary: 'Get a room', params: RoomParams, response: { 200: RoomSchema } } },
    async (req) => {
      const row = await getRoomRow(db, req.params.room_id);
      if (!row) throw notFound('room', req.params.room_id);
      return present(row);
    },
  );

  app.post(
    '/rooms/:room_id',
    { schema: { tags: ['rooms'], summary: 'Update, enable or disable a room', params: RoomParams, body: UpdateRoom, response: { 200: RoomSchema } } },
    async (req) => {
      const row = await getRoomRow(db, req.params.room_id);
      if (!row) throw notFound('room', req.params.room_id);
      const body = keepStoredSecrets(req.body, row);
      checkSize(body, row);
      await guardEndpoint(body);
      const set: Partial<RoomTable> = { ...changes(body), updated_at: rfc3339() };
      if (body.enabled !== undefined) set.enabled = bit(body.enabled);
      if (body.template_id !== undefined) set.template_id = await templateIdFor(body.template_id);
      if (body.name !== undefined && body.name.toLowerCase() !== row.name_key) {
        const taken = await roomIdByName(db, body.name);
        if (taken) throw conflict('Room name already in use', `body/name ${body.name} belongs to room ${taken}`);
        set.name = body.name;
        set.name_key = body.name.toLowerCase();
      }
      await updateRoom(db, row.id, set);
      return present({ ...row, ...set });
    },
  );

  app.get(
    '/rooms',
    { schema: { tags: ['rooms'], summary: 'List rooms', querystring: ListRooms, response: { 200: envelopeSchema(RoomSchema) } } },
    async (req) => {
      const q = req.query;
      const limit = q.limit ?? 10;
      const rows = await listRooms(db, {
        enabled: q.enabled ?? true,
        name: q.name,
        templateId: q.template_id,
        after: q.after ? utcFilter('after', q.after)! : undefined,
        before: q.before ? utcFilter('before', q.before)! : undefined,
        belowId: q.start,
        limit,
      });
      const data = await Promise.all(rows.map(present));
      return envelope(limit, data, (r) => r.id);
    },
  );
}
