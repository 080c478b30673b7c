// Webhooks: the workspace webhook setting (/v2/webhooks/settings, an API equivalent of the reference's dashboard
// setting; it wins over WEBHOOK_URL), the delivery log (GET /v2/analytics/webhooks) and replay
// (POST /v2/analytics/webhooks/replay, GET …/replay/<workflow_id>), shaped as the reference.
import { Type } from 'typebox';
import type { ApiDeps, ApiInstance } from './types.js';
import { badRequest, notFound } from './errors.js';
import { utcFilter } from './pagination.js';
import { fromJson } from '../store/db.js';
import { now } from '../clock.js';
import { maskSecret, SECRET_MASK } from '../model/secrets.js';
import { getApiWorkspaceTarget, listDeliveries, setApiWorkspaceTarget, workflowCounts, type WebhookTarget } from '../store/webhooks.js';
import { eventDataByIds, storedEventIds } from '../store/events.js';
import { getReplay, replayLastCompletedAt } from '../store/outbox.js';
import { secondPrecision, type ReplayFilters } from '../webhooks/outbox.js';
import { SIGNATURE_HEADER } from '../webhooks/deliver.js';
import { Id } from './schemas.js';

const tags = ['webhooks'];
const Url = Type.String({ format: 'uri', pattern: '^https?://', maxLength: 2048 });
const Headers = Type.Record(Type.String({ pattern: '^[A-Za-z0-9!#$%&\'*+.^_`|~-]{1,128}$' }), Type.String({ maxLength: 4096 }), { maxProperties: 50, additionalProperties: false });
const EventName = Type.String({ pattern: '^[a-z0-9_.]{1,64}$' });
const Status = Type.Union([Type.Literal('all'), Type.Literal('failed'), Type.Literal('success')]);
const Time = Type.String({ maxLength: 40 });
const Open = Type.Object({}, { additionalProperties: true });

const SettingsBody = Type.Object(
  {
    url: Type.Union([Url, Type.Null()], { description: 'null removes the API setting (WEBHOOK_URL applies again)' }),
    headers: Type.Optional(Headers),
  },
  { additionalProperties: false },
);

const LogQuery = Type.Object({
  start_time: Type.Optional(Time),
  end_time: Type.Optional(Time),
  room_id: Type.Optional(Id),
  status: Type.Optional(Status),
  event_names: Type.Optional(Type.Array(EventName, { maxItems: 50 })),
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 100, default: 50 })),
  page: Type.Optional(Type.Integer({ minimum: 1, maximum: 100000, default: 1 })),
});

const ReplayBody = Type.Object(
  {
    start_time: Type.Optional(Time),
    end_time: Type.Optional(Time),
    room_id: Type.Optional(Id),
    event_names: Type.Optional(Type.Array(EventName, { maxItems: 50 })),
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 50000, default: 50000 })),
    offset: Type.Optional(Type.Integer({ minimum: 0, maximum: 10_000_000, default: 0 })),
    status: Type.Optional(Status),
    event_ids: Type.Optional(Type.Array(Type.String({ minLength: 1, maxLength: 64 }), { maxItems: 1000, description: 'extension: replay exactly these events' })),
  },
  { additionalProperties: false },
);

const DAY_MS = 86400_000;

/** Reference rules: start within the last 30 days (default 24 h ago), end after start and within 14 days of it (default now). */
function timeWindow(start: string | undefined, end: string | undefined): { start: string; end: string } {
  const t = now().getTime();
  const s = utcFilter('start_time', start) ?? new Date(t - DAY_MS).toISOString();
  const e = utcFilter('end_time', end) ?? new Date(t).toISOString();
  if (Date.parse(s) < t - 30 * DAY_MS) throw badRequest('start_time must be within the last 30 days', `start_time ${s} is more than 30 days ago`);
  if (Date.parse(e) < Date.parse(s) || Date.parse(e) > Date.parse(s) + 14 * DAY_MS) {
    throw badRequest('end_time must be within 14 days after start_time', `end_time ${e} is not between start_time and 14 days after it`);
  }
  return { start: s, end: e };
}

function maskHeaders(h: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(h).map(([k, v]) => [k, maskSecret(v)]));
}

export function webhookRoutes(app: ApiInstance, deps: ApiDeps): void {
  const { db } = deps;

  async function presentSettings() {
    const fromApi = await getApiWorkspaceTarget(db);
    const t: WebhookTarget | null = fromApi ?? (deps.config.webhookUrl ? { url: deps.config.webhookUrl, headers: deps.config.webhookHeaders } : null);
    return {
      url: t?.url ?? null,
      // header values are credentials more often than not: shown masked, as template storage secrets
      headers: maskHeaders(t?.headers ?? {}),
      source: fromApi ? 'api' : t ? 'config' : 'none',
      signature_header: deps.config.webhookSecret ? SIGNATURE_HEADER : null,
      allow_private: deps.config.webhookAllowPrivate,
      retry_window_seconds: deps.config.webhookRetryWindowSeconds,
    };
  }

  app.get('/webhooks/settings', { schema: { tags, summary: 'The workspace webhook (header values masked)', response: { 200: Open } } }, async () => presentSettings());

  app.post(
    '/webhooks/settings',
    { schema: { tags, summary: 'Set the workspace webhook (rooms with their own `webhook` keep theirs)', body: SettingsBody, response: { 200: Open } } },
    async (req) => {
      const { url, headers } = req.body;
      if (url === null) {
        await setApiWorkspaceTarget(db, null);
        return presentSettings();
      }
      // a masked value sent back (as GET shows it) keeps the stored value of that header
      const stored = (await getApiWorkspaceTarget(db))?.headers ?? {};
      const next: Record<string, string> = {};
      for (const [k, v] of Object.entries(headers ?? {})) {
        if (v.startsWith(SECRET_MASK)) {
          if (stored[k] !== undefined && maskSecret(stored[k]) === v) next[k] = stored[k];
          else throw badRequest('Invalid header value', `body/headers/${k} is a masked value that does not match the stored one: send the full value`);
        } else next[k] = v;
      }
      await setApiWorkspaceTarget(db, { url, headers: next });
      return presentSettings();
    },
  );

  app.get(
    '/analytics/webhooks',
    { schema: { tags, summary: 'Webhook delivery history, newest first', querystring: LogQuery, response: { 200: Open } } },
    async (req) => {
      const q = req.query;
      const { start, end } = timeWindow(q.start_time, q.end_time);
      const limit = q.limit ?? 50;
      const page = q.page ?? 1;
      const { rows, total } = await listDeliveries(db, { start, end, roomId: q.room_id, status: q.status ?? 'all', eventNames: q.event_names }, page, limit);
      const eventData = new Map<string, unknown>();
      const ids = [...new Set(rows.map((r) => r.event_id))];
      if (ids.length > 0) {
        for (const e of await eventDataByIds(db, ids)) eventData.set(e.id, fromJson(e.data, {}));
      }
      const totalPages = Math.ceil(total / limit);
      return {
        events: rows.map((r) => {
          const payload: Record<string, unknown> = {
            event_data: eventData.get(r.event_id) ?? {},
            webhook_url: r.url,
            original_event_name: r.event_type,
            // extensions: the delivery's own bookkeeping
            delivery_id: r.id,
            status: r.status,
            attempts: r.attempts,
            status_code: r.last_status_code,
            is_replay: r.workflow_id !== null,
            completed_at: r.completed_at,
            next_attempt_at: r.next_attempt_at,
          };
          if (r.status !== 'success' && r.last_error) payload.error_reason = r.last_error;
          return {
            event_id: r.event_id,
            event_name: `reporter.webhook.delivery.${r.status}`,
            room_id: r.room_id ?? '',
            event_timestamp: secondPrecision(r.event_created_at),
            payload,
          };
        }),
        pagination: { current_page: page, page_size: limit, total_pages: totalPages, total_items: total, has_next: page < totalPages, has_prev: page > 1 },
        summary: { total_events: total },
      };
    },
  );

  app.post(
    '/analytics/webhooks/replay',
    { schema: { tags, summary: 'Send stored events again (default: the failed deliveries of the last 24 h)', body: ReplayBody, response: { 200: Open } } },
    async (req) => {
      const b = req.body ?? {};
      const { start, end } = timeWindow(b.start_time, b.end_time);
      const filters: ReplayFilters = {
        start_time: start,
        end_time: end,
        room_id: b.room_id,
        event_names: b.event_names,
        status: b.status ?? 'failed',
        limit: b.limit ?? 50000,
        offset: b.offset ?? 0,
        event_ids: b.event_ids,
      };
      if (b.event_ids?.length) {
        const found = await storedEventIds(db, b.event_ids);
        const missing = b.event_ids.filter((id) => !found.includes(id));
        if (missing.length) throw badRequest('Unknown event', ...missing.slice(0, 20).map((id) => `body/event_ids: event ${id} is not stored`));
      }
      const res = await deps.webhooks.replay(filters);
      return {
        workflow_id: res.workflowId,
        status: res.alreadyRunning ? 'already_running' : 'started',
        message: res.alreadyRunning ? 'An identical replay is already in progress' : 'Webhook replay has been queued for processing',
        filters: { start_time: start, end_time: end, room_id: b.room_id ?? '', event_types: b.event_names ?? [], ...(b.event_ids ? { event_ids: b.event_ids } : {}) },
        total: res.total,
      };
    },
  );

  app.get(
    '/analytics/webhooks/replay/:workflow_id',
    { schema: { tags, summary: 'Progress of a webhook replay', params: Type.Object({ workflow_id: Type.String({ pattern: '^[a-zA-Z0-9_-]{1,64}$' }) }), response: { 200: Open } } },
    async (req) => {
      const w = await getReplay(db, req.params.workflow_id);
      if (!w) throw notFound('workflow', req.params.workflow_id);
      const c = await workflowCounts(db, w.id);
      const status = c.pending > 0 ? 'Running' : c.failed === 0 ? 'completed' : c.success === 0 ? 'failed' : 'completed_with_failures';
      const lastDone = await replayLastCompletedAt(db, w.id);
      const f = fromJson<ReplayFilters>(w.filters, {} as ReplayFilters);
      return {
        workflow_id: w.id,
        status,
        started_at: secondPrecision(w.created_at),
        completed_at: c.pending === 0 && lastDone ? secondPrecision(lastDone) : null,
        filters: { start_time: f.start_time, end_time: f.end_time, room_id: f.room_id ?? '', event_types: f.event_names ?? [], limit: f.limit, offset: f.offset },
        progress: { total: w.total, completed: c.success, failed: c.failed },
        result: { total: w.total, completed: c.success, failed: c.failed, failed_events: c.failedEvents },
      };
    },
  );
}
