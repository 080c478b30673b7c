// The webhook outbox: stored events → delivery rows (one per event and target) → POSTs, all state in the
// database so a restart loses nothing. Deliveries of one room go out one at a time in event order (the next
// waits until the previous one succeeded or was given up); rooms do not wait for each other.
// Retries: +1 s, +3 s, +10 s as the reference, then 20 s doubling up to 10 min until WEBHOOK_RETRY_WINDOW_SECONDS.
import type { Config } from '../config.js';
import type { Db } from '../store/db.js';
import type { Logger } from '../logger.js';
import type { EventLog } from '../domain/events.js';
import { fromJson, toJson } from '../store/db.js';
import type { EventTable } from '../store/schema.js';
import { eventsAfter, eventsByIds, getEvent } from '../store/events.js';
import {
  dueDeliveries,
  fanOutDeliveries,
  finishDelivery,
  insertReplay,
  laneHeads,
  lastTargetOfEvent,
  leaseDelivery,
  pruneDeliveryLog,
  runningReplay,
  scheduleRetry,
  type NewDelivery,
} from '../store/outbox.js';
import { getRoomWebhook } from '../store/rooms.js';
import { now, objectId, rfc3339 } from '../clock.js';
import { postJson } from './deliver.js';
import {
  eventIdsOfDeliveries,
  getApiWorkspaceTarget,
  getState,
  type DeliveryFilter,
  type DeliveryRow,
  type WebhookTarget,
} from '../store/webhooks.js';
import { CoalescingRunner } from '../jobs/coalescingRunner.js';

/** Seconds before the next try, after the n-th failed one (n = 1, 2, …); the last value repeats. */
export const RETRY_DELAYS_S = [1, 3, 10, 20, 40, 80, 160, 320, 600];
/** The original try plus the reference's three retries always happen, whatever the window. */
const MIN_TRIES = 4;
const MAX_IN_FLIGHT = 8;
const POLL_MS = 500;
const FANOUT_BATCH = 500;
/** A missing seq younger than this may be a PostgreSQL insert not yet committed: wait for it. */
const GAP_WAIT_MS = 10_000;
/** A delivery being sent is leased for this long: another server sharing the database leaves it alone. */
const LEASE_MS = 60_000;
/** Finished deliveries are kept this long (the log API looks back 30 days). */
const KEEP_MS = 30 * 86400_000;

export function retryDelaySeconds(failedTries: number): number {
  return RETRY_DELAYS_S[Math.min(failedTries, RETRY_DELAYS_S.length) - 1];
}

/** RFC3339 UTC, second precision, as the reference's envelope: 2021-11-30T12:58:49Z */
export function secondPrecision(iso: string): string {
  return new Date(iso).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/** The body of one webhook POST (reference §5.2). */
export function webhookEnvelope(
  ids: { appId: string; customerId: string },
  e: Pick<EventTable, 'id' | 'type' | 'data' | 'created_at'>,
  isReplay = false,
): Record<string, unknown> {
  const env: Record<string, unknown> = {
    version: '2.0',
    id: e.id,
    app_id: ids.appId,
    account_id: ids.customerId,
    timestamp: secondPrecision(e.created_at),
    type: e.type,
    data: fromJson<Record<string, unknown>>(e.data, {}),
  };
  // the reference marks replayed events
  if (isReplay) env.is_replay = true;
  return env;
}

export interface ReplayFilters {
  start_time: string;
  end_time: string;
  room_id?: string;
  event_names?: string[];
  status: 'all' | 'failed' | 'success';
  limit: number;
  offset: number;
  event_ids?: string[];
}

/** What the outbox is built with (server.ts). */
export interface OutboxDeps {
  config: Config;
  db: Db;
  log: Logger;
  events: EventLog;
  /** the workspace ids the envelope names */
  customerId: string;
  appId: string;
}

export class WebhookOutbox {
  private stopped = true;
  private readonly runner = new CoalescingRunner(
    () => this.tick(),
    (err) => this.deps.log.error({ err }, 'webhook dispatcher error'),
    () => !this.stopped,
  );
  private readonly inFlight = new Map<string, Promise<void>>();
  private timers: NodeJS.Timeout[] = [];
  private offEvents: (() => void) | null = null;

  constructor(private readonly deps: OutboxDeps) {}

  private get db() {
    return this.deps.db;
  }

  start(): void {
    this.stopped = false;
    this.offEvents = this.deps.events.on(() => this.kick());
    this.timers.push(setInterval(() => this.kick(), POLL_MS));
    this.timers.push(setInterval(() => void this.prune().catch((err) => this.deps.log.warn({ err }, 'webhook log prune failed')), 3600_000));
    for (const t of this.timers) t.unref();
    this.kick();
  }

  /** Stops sending; deliveries in flight finish (each has a timeout) and are recorded. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.offEvents?.();
    for (const t of this.timers) clearInterval(t);
    this.timers = [];
    await this.runner.idle();
    await Promise.allSettled([...this.inFlight.values()]);
  }

  /** Look for new events and due deliveries now. */
  kick(): void {
    this.runner.trigger();
  }

  private async tick(): Promise<void> {
    while ((await this.fanout()) && !this.stopped) {
      /* more events than one batch */
    }
    if (!this.stopped) await this.dispatch();
  }

  /** The workspace webhook: the API setting if there is one, else WEBHOOK_URL / WEBHOOK_HEADERS. */
  async workspaceTarget(): Promise<WebhookTarget | null> {
    const fromApi = await getApiWorkspaceTarget(this.db);
    if (fromApi) return fromApi;
    if (this.deps.config.webhookUrl) return { url: this.deps.config.webhookUrl, headers: this.deps.config.webhookHeaders };
    return null;
  }

  /** A room's own webhook replaces the workspace one (reference §5.1). */
  async targetFor(roomId: string | null): Promise<WebhookTarget | null> {
    if (roomId) {
      const own = fromJson<{ url?: string; headers?: Record<string, string> } | null>(await getRoomWebhook(this.db, roomId), null);
      if (own?.url) return { url: own.url, headers: own.headers ?? {} };
    }
    return this.workspaceTarget();
  }

  private deliveryRow(e: Pick<EventTable, 'id' | 'type' | 'room_id' | 'created_at'> & { seq: number }, t: WebhookTarget, workflowId: string | null) {
    const at = rfc3339();
    const row: NewDelivery = {
      id: objectId(),
      event_id: e.id,
      event_seq: e.seq,
      event_type: e.type,
      event_created_at: e.created_at,
      room_id: e.room_id,
      lane: e.room_id ? `room:${e.room_id}` : 'workspace',
      url: t.url,
      headers: toJson(t.headers),
      workflow_id: workflowId,
      status: 'pending',
      attempts: 0,
      next_attempt_at: at,
      last_status_code: null,
      last_error: null,
      created_at: at,
      updated_at: at,
      completed_at: null,
    };
    return row;
  }

  /** New events → delivery rows, and the cursor moves past them, in one transaction. True if a full batch. */
  private async fanout(): Promise<boolean> {
    const cursorText = await getState(this.db, 'cursor');
    const cursor = Number(cursorText ?? 0);
    const rows = await eventsAfter(this.db, cursor, FANOUT_BATCH);
    if (rows.length === 0) return false;
    let upTo = cursor;
    const taken: typeof rows = [];
    for (const r of rows) {
      const seq = Number(r.seq);
      // a hole in the sequence: a concurrent insert not yet committed (PostgreSQL), or one rolled back long ago
      if (seq !== upTo + 1 && now().getTime() - Date.parse(r.created_at) < GAP_WAIT_MS) break;
      taken.push(r);
      upTo = seq;
    }
    if (taken.length === 0) return false;
    const targets = new Map<string, WebhookTarget | null>();
    const deliveries: NewDelivery[] = [];
    for (const e of taken) {
      const key = e.room_id ?? '';
      if (!targets.has(key)) targets.set(key, await this.targetFor(e.room_id));
      const t = targets.get(key);
      if (t) deliveries.push(this.deliveryRow({ ...e, seq: Number(e.seq) }, t, null));
    }
    // false: another server sharing the database fanned these events out first, nothing to do
    if (!(await fanOutDeliveries(this.db, { cursor, cursorWasSet: cursorText !== null, upTo }, deliveries))) return false;
    return taken.length === FANOUT_BATCH;
  }

  /** Sends the head delivery of every lane that is due and not already being sent. */
  private async dispatch(): Promise<void> {
    const heads = await laneHeads(this.db);
    const free = heads.filter((h) => !this.inFlight.has(h.lane)).map((h) => h.seq);
    if (free.length === 0) return;
    const due: DeliveryRow[] = [];
    for (let i = 0; i < free.length; i += 500) {
      due.push(...(await dueDeliveries(this.db, free.slice(i, i + 500), rfc3339())));
    }
    for (const d of due) {
      if (this.inFlight.size >= MAX_IN_FLIGHT || this.stopped) break;
      // claim it: only the server whose conditional update lands sends it (a crash frees it when the lease ends)
      if (!(await leaseDelivery(this.db, d, rfc3339(new Date(now().getTime() + LEASE_MS))))) continue;
      const p = this.send(d)
        .catch((err) => this.deps.log.error({ err, delivery: d.id }, 'webhook delivery bookkeeping failed'))
        .finally(() => {
          this.inFlight.delete(d.lane);
          this.kick();
        });
      this.inFlight.set(d.lane, p);
    }
  }

  private async send(d: DeliveryRow): Promise<void> {
    const e = await getEvent(this.db, d.event_id);
    const tries = d.attempts + 1;
    if (!e) {
      await this.finish(d, 'failed', tries, null, 'the event is no longer stored');
      return;
    }
    const body = JSON.stringify(webhookEnvelope(this.deps, e, d.workflow_id !== null));
    const res = await postJson(d.url, body, {
      headers: fromJson<Record<string, string>>(d.headers, {}),
      secret: this.deps.config.webhookSecret,
      allowPrivate: this.deps.config.webhookAllowPrivate,
    });
    if (res.ok) {
      await this.finish(d, 'success', tries, res.status, null);
      return;
    }
    const next = now().getTime() + retryDelaySeconds(tries) * 1000;
    const deadline = Date.parse(d.created_at) + this.deps.config.webhookRetryWindowSeconds * 1000;
    const giveUp = !res.retryable || (tries >= MIN_TRIES && next > deadline);
    // the origin only: a URL's path or query may carry a token
    const target = safeOrigin(d.url);
    if (giveUp) {
      this.deps.log.warn({ target, event: d.event_type, tries, error: res.error }, 'webhook delivery given up');
      await this.finish(d, 'failed', tries, res.status, res.error);
    } else {
      this.deps.log.debug({ target, event: d.event_type, tries, error: res.error }, 'webhook delivery failed; will retry');
      await scheduleRetry(this.db, d.id, { attempts: tries, next_attempt_at: rfc3339(new Date(next)), last_status_code: res.status, last_error: res.error, updated_at: rfc3339() });
    }
  }

  private async finish(d: DeliveryRow, status: 'success' | 'failed', tries: number, code: number | null, error: string | null): Promise<void> {
    await finishDelivery(this.db, d.id, { status, attempts: tries, last_status_code: code, last_error: error, at: rfc3339() });
  }

  private async prune(): Promise<void> {
    const cutoff = rfc3339(new Date(now().getTime() - KEEP_MS));
    await pruneDeliveryLog(this.db, cutoff);
  }

  /**
   * Sends events again (reference: POST /v2/analytics/webhooks/replay): the events whose deliveries match the
   * filters, or the events named in `event_ids`, to the room's / workspace's current webhook (the original URL
   * if none is set now). Replayed deliveries carry `is_replay: true` and queue behind the room's pending ones.
   */
  async replay(f: ReplayFilters): Promise<{ workflowId: string; alreadyRunning: boolean; total: number }> {
    const key = toJson(f);
    const running = await runningReplay(this.db, key);
    if (running) return { workflowId: running, alreadyRunning: true, total: 0 };
    let eventIds: string[];
    if (f.event_ids && f.event_ids.length > 0) eventIds = f.event_ids;
    else {
      const filter: DeliveryFilter = { start: f.start_time, end: f.end_time, roomId: f.room_id, status: f.status, eventNames: f.event_names };
      eventIds = await eventIdsOfDeliveries(this.db, filter, f.offset, f.limit);
    }
    const workflowId = `webhook-replay-${this.deps.customerId.slice(0, 8)}-${objectId().slice(-8)}`;
    const rows: NewDelivery[] = [];
    for (let i = 0; i < eventIds.length; i += 500) {
      const events = await eventsByIds(this.db, eventIds.slice(i, i + 500));
      for (const e of events) {
        let t = await this.targetFor(e.room_id);
        if (!t) {
          const last = await lastTargetOfEvent(this.db, e.id);
          t = last ? { url: last.url, headers: fromJson(last.headers, {}) } : null;
        }
        if (t) rows.push(this.deliveryRow({ ...e, seq: Number(e.seq) }, t, workflowId));
      }
    }
    await insertReplay(this.db, { id: workflowId, filters: key, created_at: rfc3339() }, rows);
    this.kick();
    return { workflowId, alreadyRunning: false, total: rows.length };
  }
}

function safeOrigin(url: string): string {
  try {
    return new URL(url).origin;
  } catch {
    return 'invalid URL';
  }
}

