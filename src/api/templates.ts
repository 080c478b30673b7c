// /v2/templates: templates, their settings (storage), destinations (HLS/RTMP/transcription), recording
// config and roles (reference §6.1–6.5, bounds from §7). Shapes and ranges are the request schemas
// (templateRequests.ts); requests become template parts in domain/templates.ts (defaults in
// templateDefaults.ts) and the cross-field rules (ladders, resolutions, role references) are
// domain/templateValidation.ts.
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
import { Type } from 'typebox';
import type { ApiDeps, ApiInstance } from './types.js';
import { badRequest, conflict, notFound } from './errors.js';
import { envelope, envelopeSchema } from './pagination.js';
import {
  disableRoomCodesForRole,
  getTemplate,
  getTemplateByName,
  insertTemplate,
  listTemplates,
  saveTemplate,
} from '../store/templates.js';
import {
  CreateTemplate,
  DestinationsBody,
  ListQuery,
  RecordingsBody,
  RoleBody,
  RoleParams,
  SettingsBody,
  TemplateParams,
  UpdateTemplate,
  type SettingsRequest,
  type TemplateRequest,
} from './templateRequests.js';
import { isHiddenRole, type Role, type Template, type TemplateParts } from '../model/templates.js';
import { apiRoleDefaults, defaultTemplateBody, withRoleSubscribedByRecorder } from '../domain/templateDefaults.js';
import { buildDestinations, buildRecordingConfig, buildRole, buildRoles, mergeSettings, omitFalse, presentSettings } from '../domain/templates.js';
import {
  destinationIssues,
  recordingIssues,
  roleInUseIssues,
  roleIssues,
  streamingDisabledByAutoStart,
  subscribeIssues,
  transcriptionRoleIssues,
} from '../domain/templateValidation.js';
import { refusePrivateEndpoint } from '../storage/endpointGuard.js';

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

/**
 * Applies a create/update body to a template's parts and checks the result as a whole: a change of
 * roles must not leave a recording config, transcription or subscription pointing at a missing role.
 * Issues about parts the body did not send are named "template/…".
 */
function applyBody(cur: TemplateParts, body: TemplateRequest): TemplateParts {
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

export function templateRoutes(app: ApiInstance, deps: ApiDeps): void {
  const { db } = deps;
  const tags = ['templates'];

  /** A storage endpoint on a private address is refused when saved (and checked again at each upload). */
  async function guardEndpoint(settings: SettingsRequest | undefined, path: string) {
    const endpoint = settings?.recording?.upload?.options?.endpoint;
    await refusePrivateEndpoint(endpoint, deps.config.storageAllowPrivate, `${path}/recording/upload/options/endpoint`);
  }

  async function load(id: string): Promise<Template> {
    const t = await getTemplate(db, id);
    if (!t) throw notFound('template', id);
    return t;
  }

  async function update(t: Template, body: TemplateRequest): Promise<Template> {
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
        return present(await insertTemplate(db, { name: body.name, customer_id: deps.customerId, ...parts }));
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
      const inUse = roleInUseIssues(t, name);
      if (inUse.length) throw badRequest('Role in use', ...inUse);
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
