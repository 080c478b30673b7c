// Template rows ⇄ Template objects.
import type { Db } from './db.js';
import { fromJson, toJson } from './db.js';
import type { TemplateTable } from './schema.js';
import { objectId, rfc3339 } from '../clock.js';
import { DEFAULT_TEMPLATE_NAME, type Template, type TemplateParts } from '../model/templates.js';

export function rowToTemplate(r: TemplateTable): Template {
  return {
    id: r.id,
    name: r.name,
    customer_id: r.customer_id,
    roles: fromJson(r.roles, {}),
    settings: fromJson(r.settings, {}),
    destinations: fromJson(r.destinations, { hlsDestinations: {}, rtmpDestinations: {}, transcriptions: {} }),
    recordings: fromJson(r.recordings, []),
    created_at: r.created_at,
    updated_at: r.updated_at,
  };
}

export async function getTemplate(db: Db, id: string): Promise<Template | null> {
  const r = await db.selectFrom('templates').selectAll().where('id', '=', id).executeTakeFirst();
  return r ? rowToTemplate(r) : null;
}

export async function getTemplateByName(db: Db, name: string): Promise<Template | null> {
  const r = await db.selectFrom('templates').selectAll().where('name', '=', name).executeTakeFirst();
  return r ? rowToTemplate(r) : null;
}

export async function insertTemplate(
  db: Db,
  t: Pick<Template, 'name' | 'customer_id'> & TemplateParts,
): Promise<Template> {
  const at = rfc3339();
  const row: TemplateTable = {
    id: objectId(),
    name: t.name,
    customer_id: t.customer_id,
    roles: toJson(t.roles),
    settings: toJson(t.settings),
    destinations: toJson(t.destinations),
    recordings: toJson(t.recordings),
    created_at: at,
    updated_at: at,
  };
  await db.insertInto('templates').values(row).execute();
  return rowToTemplate(row);
}

export async function saveTemplate(db: Db, t: Template): Promise<Template> {
  const updated_at = rfc3339();
  await db
    .updateTable('templates')
    .set({
      name: t.name,
      roles: toJson(t.roles),
      settings: toJson(t.settings),
      destinations: toJson(t.destinations),
      recordings: toJson(t.recordings),
      updated_at,
    })
    .where('id', '=', t.id)
    .execute();
  return { ...t, updated_at };
}

/** The default template exists from the first start; its parts are the domain's defaults (domain/templateDefaults.ts). */
export async function ensureDefaultTemplate(db: Db, customerId: string, parts: TemplateParts): Promise<Template> {
  const existing = await getTemplateByName(db, DEFAULT_TEMPLATE_NAME);
  if (existing) return existing;
  try {
    return await insertTemplate(db, { name: DEFAULT_TEMPLATE_NAME, customer_id: customerId, ...parts });
  } catch (err) {
    // another node of the fleet, starting at the same time, made it first (the name is unique)
    const made = await getTemplateByName(db, DEFAULT_TEMPLATE_NAME);
    if (made) return made;
    throw err;
  }
}

/** Newest first; `start` is the previous page's last id (ids sort by creation time). */
export async function listTemplates(db: Db, limit: number, start?: string): Promise<Template[]> {
  let sel = db.selectFrom('templates').selectAll();
  if (start) sel = sel.where('id', '<', start);
  const rows = await sel.orderBy('id', 'desc').limit(limit).execute();
  return rows.map(rowToTemplate);
}

/** Room codes of a role that left the template can no longer join anyone: switch them off. */
export async function disableRoomCodesForRole(db: Db, templateId: string, role: string, at: string): Promise<void> {
  await db
    .updateTable('room_codes')
    .set({ enabled: 0, updated_at: at })
    .where('role', '=', role)
    .where('room_id', 'in', db.selectFrom('rooms').select('id').where('template_id', '=', templateId))
    .execute();
}
