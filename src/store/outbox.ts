// The webhook outbox's delivery rows as the dispatcher moves them (webhooks/outbox.ts): fan-out of new events
// behind the cursor, lane heads, leases, retries, the end of a delivery, replays, pruning of the log.
import type { Db } from './db.js';
import type { WebhookDeliveryTable, WebhookReplayTable } from './schema.js';
import type { DeliveryRow } from './webhooks.js';

export type NewDelivery = Omit<WebhookDeliveryTable, 'seq'>;

class CursorMoved extends Error {}

async function insertDeliveries(db: Db, rows: NewDelivery[]): Promise<void> {
  for (let i = 0; i < rows.length; i += 100) await db.insertInto('webhook_deliveries').values(rows.slice(i, i + 100)).execute();
}

/**
 * Stores the deliveries of the events after `cursor` up to `upTo` and moves the cursor there, in one
 * transaction. False if the cursor was no longer at `cursor` (another server sharing the database fanned these
 * events out first); `cursorWasSet`: a cursor row existed when `cursor` was read (else it is inserted).
 */
export async function fanOutDeliveries(db: Db, move: { cursor: number; cursorWasSet: boolean; upTo: number }, deliveries: NewDelivery[]): Promise<boolean> {
  try {
    await db.transaction().execute(async (trx) => {
      const moved = await trx
        .updateTable('webhook_state')
        .set({ value: String(move.upTo) })
        .where('name', '=', 'cursor')
        .where('value', '=', String(move.cursor))
        .executeTakeFirst();
      if (Number(moved.numUpdatedRows) !== 1) {
        if (move.cursorWasSet) throw new CursorMoved();
        await trx.insertInto('webhook_state').values({ name: 'cursor', value: String(move.upTo) }).execute();
      }
      await insertDeliveries(trx, deliveries);
    });
  } catch (err) {
    if (err instanceof CursorMoved) return false;
    throw err;
  }
  return true;
}

/** The first pending delivery (lowest `seq`) of every lane. */
export async function laneHeads(db: Db): Promise<{ lane: string; seq: number }[]> {
  const heads = await db
    .selectFrom('webhook_deliveries')
    .select(['lane', (eb) => eb.fn.min('seq').as('seq')])
    .where('status', '=', 'pending')
    .groupBy('lane')
    .execute();
  return heads.map((h) => ({ lane: h.lane, seq: Number(h.seq) }));
}

/** Of the deliveries with these `seq`s, those due by `at`, the longest due first. */
export async function dueDeliveries(db: Db, seqs: number[], at: string): Promise<DeliveryRow[]> {
  return db.selectFrom('webhook_deliveries').selectAll().where('seq', 'in', seqs).where('next_attempt_at', '<=', at).orderBy('next_attempt_at', 'asc').execute();
}

/**
 * Claims a pending delivery for sending until `until`: only the caller whose conditional update lands (the
 * delivery still pending and still due at the time the caller read) gets true.
 */
export async function leaseDelivery(db: Db, d: Pick<DeliveryRow, 'id' | 'next_attempt_at'>, until: string): Promise<boolean> {
  const claimed = await db
    .updateTable('webhook_deliveries')
    .set({ next_attempt_at: until })
    .where('id', '=', d.id)
    .where('status', '=', 'pending')
    .where('next_attempt_at', '=', d.next_attempt_at)
    .executeTakeFirst();
  return Number(claimed.numUpdatedRows) === 1;
}

/** A failed try that will be retried at `next_attempt_at`. */
export async function scheduleRetry(
  db: Db,
  id: string,
  t: Pick<WebhookDeliveryTable, 'attempts' | 'next_attempt_at' | 'last_status_code' | 'last_error' | 'updated_at'>,
): Promise<void> {
  await db.updateTable('webhook_deliveries').set(t).where('id', '=', id).execute();
}

/** The delivery is over: sent, or given up. */
export async function finishDelivery(
  db: Db,
  id: string,
  f: { status: 'success' | 'failed'; attempts: number; last_status_code: number | null; last_error: string | null; at: string },
): Promise<void> {
  await db
    .updateTable('webhook_deliveries')
    .set({ status: f.status, attempts: f.attempts, next_attempt_at: null, last_status_code: f.last_status_code, last_error: f.last_error, updated_at: f.at, completed_at: f.at })
    .where('id', '=', id)
    .execute();
}

/** Forgets finished deliveries and replays older than `cutoff`. */
export async function pruneDeliveryLog(db: Db, cutoff: string): Promise<void> {
  await db.deleteFrom('webhook_deliveries').where('status', '!=', 'pending').where('completed_at', '<', cutoff).execute();
  await db.deleteFrom('webhook_replays').where('created_at', '<', cutoff).execute();
}

/** The newest replay with these filters if it still has a pending delivery, else null. */
export async function runningReplay(db: Db, filters: string): Promise<string | null> {
  const previous = await db.selectFrom('webhook_replays').select('id').where('filters', '=', filters).orderBy('created_at', 'desc').executeTakeFirst();
  if (!previous) return null;
  const pending = await db
    .selectFrom('webhook_deliveries')
    .select('id')
    .where('workflow_id', '=', previous.id)
    .where('status', '=', 'pending')
    .executeTakeFirst();
  return pending ? previous.id : null;
}

/** Where the event was last sent (its newest delivery), if it ever was. */
export async function lastTargetOfEvent(db: Db, eventId: string): Promise<{ url: string; headers: string } | undefined> {
  return db.selectFrom('webhook_deliveries').select(['url', 'headers']).where('event_id', '=', eventId).orderBy('seq', 'desc').executeTakeFirst();
}

/** A replay and its deliveries, in one transaction. */
export async function insertReplay(db: Db, replay: { id: string; filters: string; created_at: string }, deliveries: NewDelivery[]): Promise<void> {
  await db.transaction().execute(async (trx) => {
    await trx.insertInto('webhook_replays').values({ ...replay, total: deliveries.length }).execute();
    await insertDeliveries(trx, deliveries);
  });
}

export async function getReplay(db: Db, id: string): Promise<WebhookReplayTable | undefined> {
  return db.selectFrom('webhook_replays').selectAll().where('id', '=', id).executeTakeFirst();
}

/** When the replay's last finished delivery finished, or null while none has. */
export async function replayLastCompletedAt(db: Db, id: string): Promise<string | null> {
  const lastDone = await db.selectFrom('webhook_deliveries').select((eb) => eb.fn.max('completed_at').as('at')).where('workflow_id', '=', id).executeTakeFirst();
  return lastDone?.at ? String(lastDone.at) : null;
}
