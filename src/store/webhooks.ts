// Webhook outbox rows: dispatcher state (cursor, API-set workspace webhook), the delivery log's queries.
import type { Db } from './db.js';
import { fromJson, toJson } from './db.js';
import type { Selectable } from 'kysely';
import type { WebhookDeliveryTable } from './schema.js';

export type DeliveryRow = Selectable<WebhookDeliveryTable>;

export async function getState(db: Db, name: string): Promise<string | null> {
  const r = await db.selectFrom('webhook_state').select('value').where('name', '=', name).executeTakeFirst();
  return r?.value ?? null;
}

export async function setState(db: Db, name: string, value: string | null): Promise<void> {
  if (value === null) {
    await db.deleteFrom('webhook_state').where('name', '=', name).execute();
    return;
  }
  const res = await db.updateTable('webhook_state').set({ value }).where('name', '=', name).executeTakeFirst();
  if (Number(res.numUpdatedRows) === 0) await db.insertInto('webhook_state').values({ name, value }).execute();
}

export interface WebhookTarget {
  url: string;
  headers: Record<string, string>;
}

/** The workspace webhook set through the API (it wins over WEBHOOK_URL), or null. */
export async function getApiWorkspaceTarget(db: Db): Promise<WebhookTarget | null> {
  return fromJson<WebhookTarget | null>(await getState(db, 'workspace'), null);
}

export async function setApiWorkspaceTarget(db: Db, t: WebhookTarget | null): Promise<void> {
  await setState(db, 'workspace', t ? toJson(t) : null);
}

export type DeliveryStatusFilter = 'all' | 'failed' | 'success';

export interface DeliveryFilter {
  /** RFC3339, inclusive: the event's time */
  start: string;
  end: string;
  roomId?: string;
  status: DeliveryStatusFilter;
  eventNames?: string[];
  workflowId?: string;
}

function filtered(db: Db, f: DeliveryFilter) {
  let q = db
    .selectFrom('webhook_deliveries')
    .where('event_created_at', '>=', f.start)
    .where('event_created_at', '<=', f.end);
  if (f.roomId) q = q.where('room_id', '=', f.roomId);
  if (f.status !== 'all') q = q.where('status', '=', f.status);
  if (f.eventNames && f.eventNames.length > 0) q = q.where('event_type', 'in', f.eventNames);
  if (f.workflowId) q = q.where('workflow_id', '=', f.workflowId);
  return q;
}

/** One page of the delivery log, newest first, with the total count. */
export async function listDeliveries(db: Db, f: DeliveryFilter, page: number, limit: number): Promise<{ rows: DeliveryRow[]; total: number }> {
  const count = await filtered(db, f).select((eb) => eb.fn.countAll().as('n')).executeTakeFirst();
  const rows = await filtered(db, f)
    .selectAll()
    .orderBy('seq', 'desc')
    .limit(limit)
    .offset((page - 1) * limit)
    .execute();
  return { rows: rows.map((r) => ({ ...r, seq: Number(r.seq) })), total: Number(count?.n ?? 0) };
}

/** Ids of the events whose deliveries match, oldest first (one per event, however often it was sent). */
export async function eventIdsOfDeliveries(db: Db, f: DeliveryFilter, offset: number, limit: number): Promise<string[]> {
  const rows = await filtered(db, f)
    .select(['event_id', (eb) => eb.fn.min('event_seq').as('first')])
    .groupBy('event_id')
    .orderBy('first', 'asc')
    .limit(limit)
    .offset(offset)
    .execute();
  return rows.map((r) => r.event_id);
}

export async function workflowCounts(db: Db, workflowId: string): Promise<{ pending: number; success: number; failed: number; failedEvents: string[] }> {
  const rows = await db
    .selectFrom('webhook_deliveries')
    .select(['status', (eb) => eb.fn.countAll().as('n')])
    .where('workflow_id', '=', workflowId)
    .groupBy('status')
    .execute();
  const n = (s: string) => Number(rows.find((r) => r.status === s)?.n ?? 0);
  const failedEvents = (
    await db.selectFrom('webhook_deliveries').select('event_id').where('workflow_id', '=', workflowId).where('status', '=', 'failed').limit(1000).execute()
  ).map((r) => r.event_id);
  return { pending: n('pending'), success: n('success'), failed: n('failed'), failedEvents };
}
