// /v2/templates: templates, their settings (storage), destinations (HLS/RTMP/transcription), recording
// config and roles (reference §6.1–6.5, bounds from §7). Shapes and ranges are schema checks; the
// cross-field rules (ladders, resolutions, role references, masked secrets) come from domain/templates.ts.
//
// Choices where the reference is silent:
// - POST /v2/templates with an existing name updates that template: sections in the body replace the
//   stored ones, omitted sections are kept.
// - A new template gets the default roles, HLS destination and recording config for omitted sections. A
//   roles map without the hidden recorder role gets one (it subscribes to every publishing role), so the
//   default recording config always has its role.
// - Deleting a role a recording config or transcription uses → 400 (change that config first). Other
//   roles stop subscribing to it, and room codes of that role in this template's rooms are disabled.
// - Composite auto-start disables HLS/RTMP (seed): destinations stay stored; GET …/destinations adds
//   `streamingDisabled: true` and a reason, and start paths check `streamingDisabledByAutoStart`.
import { Type, type Static } from 'typebox';
import type { ApiInstance } from './types.js';
import type { AppContext } from '../context.js';
import { badRequest, conflict, notFound } from './errors.js';
import { envelope, envelopeSchema, pageQuery } from './pagination.js';
import {
  disableRoomCodesForRole,
  getTemplate,
  getTemplateByName,
  insertTemplate,
  listTemplates,
  saveTemplate,
} from '../store/templates.js';
import { Id } from './schemas.js';
import {
  apiRoleDefaults,
  buildDestinations,
  buildRecordingConfig,
  buildRole,
  buildRoles,
  withRoleSubscribedByRecorder,
  defaultTemplateBody,
  destinationIssues,
  isHiddenRole,
  mergeSettings,
  omitFalse,
  presentSettings,
  recordingIssues,
  roleIssues,
  streamingDisabledByAutoStart,
  subscribeIssues,
  transcriptionRoleIssues,
  type Role,
  type Template,
} from '../domain/templates.js';
import { refusePrivateEndpoint } from '../storage/endpointGuard.js';

// ---- schemas ----------------------------------------------------------------------------------

const opt = Type.Optional;
const Bool = Type.Boolean();
const int = (minimum: number, maximum: number, description?: string) =>
  Type.Integer({ minimum, maximum, ...(description ? { description } : {}) });
/** Request objects: unknown fields are a 400 naming the field. */
const strict = <P extends Parameters<typeof Type.Object>[0]>(props: P, description?: string) =>
  Type.Object(props, { additionalProperties: false, ...(description ? { description } : {}) });
/** Free-form objects the reference leaves open (simulcast layers, room state, transcription summary). */
const FreeObject = Type.Record(Type.String(), Type.Unknown());

const KEY = '^[a-zA-Z0-9_-]{1,100}$';
const TemplateName = Type.String({ minLength: 1, maxLength: 255, pattern: '^[a-zA-Z0-9 ._:-]+$', description: 'a-z A-Z 0-9 space - . _ :' });
const RoleName = Type.String({ pattern: KEY });
const DestName = Type.String({ pattern: KEY });
const Seconds = (min: number, max: number, dflt: string) => int(min, max, `seconds; default ${dflt}`);

const VideoParams = strict({
  bitRate: opt(int(30, 2000, 'kbps')),
  codec: opt(Type.Enum(['vp8', 'vp9', 'h264'])),
  frameRate: opt(int(1, 30)),
  width: opt(int(50, 1920)),
  height: opt(int(50, 1080)),
});

const RoleBody = strict({
  name: opt(RoleName),
  hidden: opt(Type.Boolean({ description: 'read-only (shown on the recorder role); ignored on input' })),
  publishParams: opt(
    strict({
      allowed: opt(Type.Array(Type.Enum(['audio', 'video', 'screen', 'simulcast']), { uniqueItems: true })),
      audio: opt(strict({ bitRate: opt(int(16, 128, 'kbps')), codec: opt(Type.Enum(['opus'])) })),
      video: opt(VideoParams),
      screen: opt(VideoParams),
      simulcast: opt(FreeObject),
    }),
  ),
  subscribeParams: opt(
    strict({
      subscribeToRoles: opt(Type.Array(RoleName, { uniqueItems: true, maxItems: 100, description: 'roles of this template' })),
      maxSubsBitRate: opt(int(0, 100000, 'kbps')),
      subscribeDegradation: opt(
        strict({
          packetLossThreshold: opt(int(0, 100)),
          degradeGracePeriodSeconds: opt(int(0, 3600)),
          recoverGracePeriodSeconds: opt(int(0, 3600)),
        }),
      ),
    }),
  ),
  permissions: opt(
    strict({
      endRoom: opt(Bool),
      removeOthers: opt(Bool),
      mute: opt(Bool),
      unmute: opt(Bool),
      changeRole: opt(Bool),
      sendRoomState: opt(Bool),
      pollRead: opt(Bool),
      pollWrite: opt(Bool),
      browserRecording: opt(Bool),
      rtmpStreaming: opt(Bool),
      hlsStreaming: opt(Bool),
    }),
  ),
  priority: opt(int(1, 5)),
  maxPeerCount: opt(int(-1, 100000, '0 = unlimited, -1 = none may join')),
});

// Capture resolutions (§7): width 500–1920, height 480–1920; the "only one side above 1080" rule is a domain check.
const CaptureResolution = { width: opt(int(500, 1920)), height: opt(int(480, 1920)) };
const Thumbnails = strict({
  enabled: opt(Bool),
  width: opt(int(16, 1920)),
  height: opt(int(16, 1920)),
  offsets: opt(Type.Array(Type.Integer({ minimum: 0 }), { maxItems: 20, description: 'seconds into the recording' })),
  fps: opt(Type.Number({ exclusiveMinimum: 0, maximum: 30 })),
});

const RecordingConfigBody = strict({
  name: Type.String({ minLength: 1, maxLength: 100 }),
  role: Type.String({ pattern: KEY, description: 'role the recorder joins with; must exist in the template' }),
  maxDuration: opt(Seconds(1, 43200, '14400 (4 h)')),
  presignDuration: opt(Seconds(1, 604800, '86400')),
  thumbnails: opt(Thumbnails),
  compositeRecording: opt(
    strict({
      browserComposite: opt(
        strict({
          enabled: opt(Type.Boolean({ description: 'default true' })),
          autoStart: opt(Type.Boolean({ description: 'start on first peer join; disables HLS and RTMP streaming for the template' })),
          autoStopTimeout: opt(Seconds(0, 43200, '300')),
          ...CaptureResolution,
        }),
      ),
      customComposite: opt(strict({ enabled: opt(Bool) })),
    }),
  ),
  trackRecording: opt(strict({ enabled: opt(Bool) })),
  streamRecording: opt(strict({ enabled: opt(Bool), ...CaptureResolution })),
});
const RecordingsBody = Type.Array(RecordingConfigBody, { minItems: 1, maxItems: 1, description: 'exactly one RecordingConfig' });

// HLS layer sides: schema keeps them within 144–1920; the min/max-side, even and descending rules are domain checks.
const Layer = strict({
  width: int(144, 1920),
  height: int(144, 1920),
  videoBitrate: int(100, 10000, 'kbps'),
  audioBitrate: int(16, 320, 'kbps'),
});
const Layers = Type.Array(Layer, { minItems: 1, maxItems: 8 });
const HlsDestinationBody = strict({
  name: opt(DestName),
  maxDuration: opt(Seconds(1, 43200, '14400 (4 h)')),
  layers: opt(Type.Array(Layer, { minItems: 1, maxItems: 8, description: 'descending resolution; default 720p/480p/360p' })),
  playlistType: opt(Type.Enum(['live', 'event'])),
  numPlaylistSegments: opt(int(3, 150, 'live playlists only (2 s segments); default 5')),
  videoFrameRate: opt(int(1, 30, 'default 30')),
  enableMetadataInsertion: opt(Bool),
  enableStaticUrl: opt(Bool),
  autoStopTimeout: opt(Seconds(0, 43200, '300')),
  recording: opt(
    strict({
      hlsVod: opt(Bool),
      singleFilePerLayer: opt(Bool),
      enableZipUpload: opt(Bool),
      layers: opt(Layers),
      thumbnails: opt(Thumbnails),
      presignDuration: opt(Seconds(1, 604800, 'none')),
    }),
  ),
});
const RtmpDestinationBody = strict({
  name: opt(DestName),
  ...CaptureResolution,
  maxDuration: opt(Seconds(1, 43200, '14400 (4 h)')),
  rtmpUrls: opt(Type.Array(Type.String({ pattern: '^rtmps?://', maxLength: 2048 }), { maxItems: 3 })),
  recordingEnabled: opt(Bool),
  autoStopTimeout: opt(Seconds(0, 43200, '300')),
});
const TranscriptionBody = strict({
  name: opt(DestName),
  role: Type.String({ pattern: KEY }),
  modes: opt(Type.Array(Type.Enum(['recorded', 'live', 'caption']), { uniqueItems: true })),
  outputModes: opt(Type.Array(Type.String({ maxLength: 32 }), { maxItems: 10 })),
  customVocabulary: opt(Type.Array(Type.String({ maxLength: 100 }), { maxItems: 1000 })),
  summary: opt(FreeObject),
  translation: opt(FreeObject),
});
const destMap = <T extends Parameters<typeof Type.Array>[0]>(item: T) =>
  Type.Record(Type.String({ pattern: KEY }), item, { additionalProperties: false, maxProperties: 10 });
const DestinationsBody = strict({
  hlsDestinations: opt(destMap(HlsDestinationBody)),
  rtmpDestinations: opt(destMap(RtmpDestinationBody)),
  transcriptions: opt(destMap(TranscriptionBody)),
});

const Upload = strict({
  type: Type.Enum(['s3', 'gs', 'oss', 'azure']),
  location: Type.String({ minLength: 1, maxLength: 255, description: 'bucket (Azure: container)' }),
  prefix: opt(Type.String({ maxLength: 1024 })),
  options: opt(
    strict({
      region: opt(Type.String({ maxLength: 64 })),
      endpoint: opt(Type.String({ format: 'uri', pattern: '^https?://', maxLength: 2048, description: 'S3-compatible stores' })),
    }),
  ),
  credentials: opt(
    strict({
      key: opt(Type.String({ maxLength: 1024 })),
      secretKey: opt(Type.String({ maxLength: 4096, description: 'stored, shown masked; sending the masked value keeps it' })),
    }),
  ),
});
const SettingsBody = strict({
  region: opt(Type.Enum(['in', 'us', 'eu', 'auto'])),
  recording: opt(
    strict({
      enabled: opt(Type.Boolean({ description: 'deprecated (SFU recording)' })),
      upload: opt(Type.Union([Upload, Type.Null()], { description: 'null removes the storage configuration' })),
    }),
  ),
  roomState: opt(FreeObject),
});

const templateFields = {
  roles: opt(Type.Record(Type.String({ pattern: KEY }), RoleBody, { additionalProperties: false, maxProperties: 50 })),
  settings: opt(SettingsBody),
  destinations: opt(DestinationsBody),
  recordings: opt(RecordingsBody),
};
const CreateTemplate = strict({ name: TemplateName, ...templateFields });
const UpdateTemplate = strict({ name: opt(TemplateName), ...templateFields });
type TemplateBody = Static<typeof UpdateTemplate>;

const TemplateParams = Type.Object({ id: Id });
const RoleParams = Type.Object({ id: Id, role_name: RoleName });
const ListQuery = Type.Object({ ...pageQuery });

// Responses: open objects, so the serializer strips nothing.
const Open = Type.Object({}, { additionalProperties: true });
const TemplateSchema = Type.Object({ id: Type.String(), name: Type.String() }, { additionalProperties: true });
const RoleSchema = Type.Object({ name: Type.String() }, { additionalProperties: true });

// ---- presentation ------------------------------------------------------------------------------

function presentRole(r: Role): Role & { hidden?: true } {
  return isHiddenRole(r.name) ? { ...r, hidden: true } : r;
}

function presentDestinations(t: Template) {
  if (!streamingDisabledByAutoStart(t)) return t.destinations;
  return {
    ...t.destinations,
    streamingDisabled: true,
    streamingDisabledReason: 'recordings: compositeRecording.browserComposite.autoStart is on, so HLS and RTMP streaming are off for this template',
  };
}

function present(t: Template) {
  return {
    id: t.id,
    _id: t.id,
    name: t.name,
    customer_id: t.customer_id,
    customer: t.customer_id,
    customerId: t.customer_id,
    roles: Object.fromEntries(Object.entries(t.roles).map(([k, r]) => [k, presentRole(r)])),
    settings: presentSettings(t.settings),
    destinations: presentDestinations(t),
    recordings: omitFalse(t.recordings),
    plugins: {},
    created_at: t.created_at,
    updated_at: t.updated_at,
    createdAt: t.created_at,
    updatedAt: t.updated_at,
  };
}

type TemplateParts = Pick<Template, 'roles' | 'settings' | 'destinations' | 'recordings'>;

/**
 * Applies a create/update body to a template's parts and checks the result as a whole: a change of
 * roles must not leave a recording config, transcription or subscription pointing at a missing role.
 * Issues about parts the body did not send are named "template/…".
 */
function applyBody(cur: TemplateParts, body: TemplateBody): TemplateParts {
  const issues: string[] = [];
  const where = (part: keyof TemplateParts) => (body[part] !== undefined ? `body/${part}` : `template/${part}`);

  const roles = body.roles ? buildRoles(body.roles) : cur.roles;
  for (const [name, r] of Object.entries(body.roles ?? {})) issues.push(...roleIssues(name, r, `body/roles/${name}`));
  const names = new Set(Object.keys(roles));
  for (const r of Object.values(roles)) issues.push(...subscribeIssues(r, names, `${where('roles')}/${r.name}`));

  let settings = cur.settings;
  if (body.settings) {
    const merged = mergeSettings(cur.settings, body.settings, 'body/settings');
    settings = merged.settings;
    issues.push(...merged.issues);
  }

  const destinations = body.destinations ? buildDestinations(body.destinations, cur.destinations) : cur.destinations;
  if (body.destinations) issues.push(...destinationIssues(body.destinations, destinations, names, 'body/destinations'));
  else issues.push(...transcriptionRoleIssues(destinations, names, 'template/destinations/transcriptions'));

  const recordings = body.recordings ? body.recordings.map(buildRecordingConfig) : cur.recordings;
  recordings.forEach((r, i) => issues.push(...recordingIssues(r, names, `${where('recordings')}/${i}`)));

  if (issues.length) throw badRequest('Invalid template', ...issues);
  return { roles, settings, destinations, recordings };
}

// ---- routes ------------------------------------------------------------------------------------

export function templateRoutes(app: ApiInstance, ctx: AppContext): void {
  const { db } = ctx.store;
  const tags = ['templates'];

  /** A storage endpoint on a private address is refused when saved (and checked again at each upload). */
  async function guardEndpoint(settings: { recording?: { upload?: { options?: { endpoint?: string } } | null } } | undefined, path: string) {
    const endpoint = settings?.recording?.upload?.options?.endpoint;
    await refusePrivateEndpoint(endpoint, ctx.config.storageAllowPrivate, `${path}/recording/upload/options/endpoint`);
  }

  async function load(id: string): Promise<Template> {
    const t = await getTemplate(db, id);
    if (!t) throw notFound('template', id);
    return t;
  }

  async function update(t: Template, body: TemplateBody): Promise<Template> {
    if (body.name !== undefined && body.name !== t.name) {
      const taken = await getTemplateByName(db, body.name);
      if (taken) throw conflict('Template name already in use', `body/name ${body.name} belongs to template ${taken.id}`);
    }
    return saveTemplate(db, { ...t, name: body.name ?? t.name, ...applyBody(t, body) });
  }

  app.post(
    '/templates',
    {
      schema: {
        tags,
        summary: 'Create a template (an existing template with the same name is updated)',
        body: CreateTemplate,
        response: { 200: TemplateSchema },
      },
    },
    async (req) => {
      const body = req.body;
      await guardEndpoint(body.settings, 'body/settings');
      const existing = await getTemplateByName(db, body.name);
      if (existing) return present(await update(existing, body));
      const parts = applyBody(defaultTemplateBody(), body);
      try {
        return present(await insertTemplate(db, { name: body.name, customer_id: ctx.customerId, ...parts }));
      } catch (err) {
        // Two creates with one name at once: the unique index let one in; the other becomes an update.
        const winner = await getTemplateByName(db, body.name);
        if (!winner) throw err;
        return present(await update(winner, body));
      }
    },
  );

  app.get(
    '/templates',
    { schema: { tags, summary: 'List templates, newest first', querystring: ListQuery, response: { 200: envelopeSchema(TemplateSchema) } } },
    async (req) => {
      const limit = req.query.limit ?? 10;
      const data = (await listTemplates(db, limit, req.query.start)).map(present);
      return envelope(limit, data, (t) => t.id);
    },
  );

  app.get(
    '/templates/:id',
    { schema: { tags, summary: 'Get a template', params: TemplateParams, response: { 200: TemplateSchema } } },
    async (req) => present(await load(req.params.id)),
  );

  app.post(
    '/templates/:id',
    { schema: { tags, summary: 'Update a template', params: TemplateParams, body: UpdateTemplate, response: { 200: TemplateSchema } } },
    async (req) => {
      await guardEndpoint(req.body.settings, 'body/settings');
      return present(await update(await load(req.params.id), req.body));
    },
  );

  app.get(
    '/templates/:id/settings',
    { schema: { tags, summary: 'Get template settings (storage secret masked)', params: TemplateParams, response: { 200: Open } } },
    async (req) => presentSettings((await load(req.params.id)).settings),
  );

  app.post(
    '/templates/:id/settings',
    { schema: { tags, summary: 'Update template settings', params: TemplateParams, body: SettingsBody, response: { 200: Open } } },
    async (req) => {
      const t = await load(req.params.id);
      await guardEndpoint(req.body, 'body');
      const { settings, issues } = mergeSettings(t.settings, req.body, 'body');
      if (issues.length) throw badRequest('Invalid settings', ...issues);
      return presentSettings((await saveTemplate(db, { ...t, settings })).settings);
    },
  );

  app.get(
    '/templates/:id/destinations',
    { schema: { tags, summary: 'Get template destinations', params: TemplateParams, response: { 200: Open } } },
    async (req) => presentDestinations(await load(req.params.id)),
  );

  app.post(
    '/templates/:id/destinations',
    {
      schema: {
        tags,
        summary: 'Update template destinations (each map sent replaces the stored one)',
        params: TemplateParams,
        body: DestinationsBody,
        response: { 200: Open },
      },
    },
    async (req) => {
      const t = await load(req.params.id);
      const destinations = buildDestinations(req.body, t.destinations);
      const issues = destinationIssues(req.body, destinations, new Set(Object.keys(t.roles)), 'body');
      if (issues.length) throw badRequest('Invalid destinations', ...issues);
      return presentDestinations(await saveTemplate(db, { ...t, destinations }));
    },
  );

  app.get(
    '/templates/:id/recordings',
    { schema: { tags, summary: 'Get the recording config (false booleans omitted)', params: TemplateParams, response: { 200: Type.Array(Open) } } },
    async (req) => omitFalse((await load(req.params.id)).recordings),
  );

  app.post(
    '/templates/:id/recordings',
    {
      schema: {
        tags,
        summary: 'Set the recording config (an array of exactly one RecordingConfig)',
        params: TemplateParams,
        body: RecordingsBody,
        response: { 200: Type.Array(Open) },
      },
    },
    async (req) => {
      const t = await load(req.params.id);
      const recordings = req.body.map(buildRecordingConfig);
      const names = new Set(Object.keys(t.roles));
      const issues = recordings.flatMap((r, i) => recordingIssues(r, names, `body/${i}`));
      if (issues.length) throw badRequest('Invalid recording config', ...issues);
      return omitFalse((await saveTemplate(db, { ...t, recordings })).recordings);
    },
  );

  app.get(
    '/templates/:id/roles/:role_name',
    { schema: { tags, summary: 'Get a role', params: RoleParams, response: { 200: RoleSchema } } },
    async (req) => {
      const role = (await load(req.params.id)).roles[req.params.role_name];
      if (!role) throw notFound('role', req.params.role_name);
      return presentRole(role);
    },
  );

  app.post(
    '/templates/:id/roles/:role_name',
    {
      schema: {
        tags,
        summary: 'Create or update a role (omitted fields keep their stored or default values)',
        params: RoleParams,
        body: RoleBody,
        response: { 200: RoleSchema },
      },
    },
    async (req) => {
      const t = await load(req.params.id);
      const name = req.params.role_name;
      const role = buildRole(name, req.body, t.roles[name] ?? apiRoleDefaults(name));
      // a new role is subscribed by the recorder (its video recorded), as the template's first roles are
      const roles = t.roles[name] ? { ...t.roles, [name]: role } : withRoleSubscribedByRecorder({ ...t.roles, [name]: role }, name);
      const issues = [...roleIssues(name, req.body, 'body'), ...subscribeIssues(role, new Set(Object.keys(roles)), 'body')];
      if (issues.length) throw badRequest('Invalid role', ...issues);
      return presentRole((await saveTemplate(db, { ...t, roles })).roles[name]);
    },
  );

  app.delete(
    '/templates/:id/roles/:role_name',
    { schema: { tags, summary: 'Delete a role', params: RoleParams, response: { 204: Type.Null() } } },
    async (req, reply) => {
      const t = await load(req.params.id);
      const name = req.params.role_name;
      if (!t.roles[name]) throw notFound('role', name);
      const users = [
        ...t.recordings.flatMap((r, i) => (r.role === name ? [`recordings/${i}/role uses role ${name}: change the recording config first`] : [])),
        ...Object.entries(t.destinations.transcriptions).flatMap(([k, v]) =>
          (v as { role?: string }).role === name ? [`destinations/transcriptions/${k}/role uses role ${name}: change that destination first`] : [],
        ),
      ];
      if (users.length) throw badRequest('Role in use', ...users);
      const roles: Record<string, Role> = {};
      for (const [k, r] of Object.entries(t.roles)) {
        if (k === name) continue;
        const subs = r.subscribeParams.subscribeToRoles;
        roles[k] = subs.includes(name) ? { ...r, subscribeParams: { ...r.subscribeParams, subscribeToRoles: subs.filter((s) => s !== name) } } : r;
      }
      const saved = await saveTemplate(db, { ...t, roles });
      await disableRoomCodesForRole(db, t.id, name, saved.updated_at);
      return reply.code(204).send(null);
    },
  );
}
