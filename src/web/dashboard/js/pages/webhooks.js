// Webhooks: the workspace webhook (URL + headers) and the delivery log (GET /v2/analytics/webhooks) with
// replay (POST /v2/analytics/webhooks/replay), in the reference's shapes.
import { get, isMissingRoute, post, qs } from '../api.js';
import {
  badge,
  banner,
  busy,
  card,
  clear,
  dataTable,
  emptyState,
  errorBanner,
  field,
  fill,
  h,
  pageHeader,
  select,
  shortId,
  timeEl,
  toast,
} from '../dom.js';
import { rooms } from '../lookup.js';

const EVENTS = [
  'session.open.success',
  'session.close.success',
  'peer.join.success',
  'peer.leave.success',
  'beam.started.success',
  'beam.stopped.success',
  'beam.recording.success',
  'beam.failure',
  'hls.started.success',
  'hls.stopped.success',
  'hls.recording.success',
  'hls.failure',
];

function utc(v) {
  if (!v) return undefined;
  const d = new Date(v);
  return Number.isNaN(d.getTime()) ? undefined : d.toISOString();
}

/** "2024-05-01T10:00" in local time, for datetime-local inputs */
function localInput(d) {
  const p = (n) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}T${p(d.getHours())}:${p(d.getMinutes())}`;
}

export async function view(root, { query, signal }) {
  document.title = 'Webhooks · roomcast dashboard';
  root.append(pageHeader('Webhooks'));
  const settings = h('div');
  const log = h('div');
  root.append(settings, log);
  await Promise.all([settingsCard(settings, signal), deliveryLog(log, query, signal)]);
}

// ---- settings -------------------------------------------------------------------------------------------------

const SETTINGS_PATH = '/v2/webhooks/settings';

async function settingsCard(slot, signal) {
  const path = SETTINGS_PATH;
  const errSlot = h('div');
  const okSlot = h('div');
  let current;
  try {
    current = await get(path, { signal });
  } catch (err) {
    if (err.name === 'AbortError') return;
    slot.append(
      card(
        'Workspace webhook',
        isMissingRoute(err)
          ? banner('info', `Webhook settings are not available on this server yet (GET ${path} is not a route). The workspace webhook comes from the WEBHOOK_URL and WEBHOOK_HEADERS settings; a room can override it with its own webhook.`)
          : errorBanner(err),
      ),
    );
    return;
  }
  const url = h('input', { type: 'url', value: current?.url ?? '', maxlength: '2048', placeholder: 'https://example.com/hooks/roomcast', spellcheck: 'false' });
  const rows = h('div', { class: 'stack' });
  const addHeader = (k = '', v = '') => {
    const key = h('input', { value: k, placeholder: 'Header name', 'aria-label': 'Header name', spellcheck: 'false' });
    const val = h('input', { value: v, placeholder: 'Value', 'aria-label': 'Header value', spellcheck: 'false' });
    const row = h('div', { class: 'header-row' }, key, val, h('button', { type: 'button', class: 'ghost small danger', 'aria-label': 'Remove header', onclick: () => row.remove() }, 'Remove'));
    row.pair = () => [key.value.trim(), val.value];
    rows.append(row);
    return key;
  };
  for (const [k, v] of Object.entries(current?.headers ?? {})) addHeader(k, String(v));
  const about = h('div');
  const describe = (cur) => {
    const source = { api: 'set here', config: 'from the WEBHOOK_URL setting', none: 'none set' }[cur?.source] ?? '';
    fill(
      about,
      h(
        'p',
        { class: 'muted small' },
        source ? `Current webhook: ${source}. ` : '',
        cur?.signature_header ? ['Each call is signed in the ', h('code', null, cur.signature_header), ' header. '] : null,
        cur?.allow_private === false ? 'Targets on loopback or private networks are refused (WEBHOOK_ALLOW_PRIVATE).' : null,
      ),
    );
  };
  describe(current);
  const save = h('button', { type: 'submit', class: 'primary' }, 'Save webhook');
  const remove = h('button', { type: 'button', class: 'ghost danger' }, 'Remove');
  remove.hidden = current?.source !== 'api';
  const form = h(
    'form',
    { class: 'stack', 'aria-label': 'Workspace webhook' },
    about,
    field('URL', url, 'Every event of every room goes here, unless a room has its own webhook.'),
    h(
      'fieldset',
      null,
      h('legend', null, 'Headers sent with every call'),
      h('p', { class: 'hint' }, 'Stored values are shown masked; leave them as they are to keep them.'),
      rows,
      h('button', { type: 'button', class: 'ghost small', onclick: () => addHeader().focus() }, 'Add header'),
    ),
    h('div', { class: 'actions' }, remove, save),
  );
  const submit = (body, button) => {
    clear(okSlot);
    busy(button, errSlot, async () => {
      const saved = await post(path, body);
      describe(saved);
      remove.hidden = saved?.source !== 'api';
      url.value = saved?.url ?? '';
      rows.replaceChildren();
      for (const [k, v] of Object.entries(saved?.headers ?? {})) addHeader(k, String(v));
      okSlot.append(banner('ok', saved?.url ? `Saved. Events go to ${saved.url}.` : 'Removed.'));
    });
  };
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    if (!form.reportValidity()) return;
    const headers = Object.fromEntries([...rows.children].map((r) => r.pair()).filter(([k]) => k));
    submit({ url: url.value.trim() || null, headers }, save);
  });
  remove.addEventListener('click', () => submit({ url: null }, remove));
  slot.append(card('Workspace webhook', errSlot, okSlot, form));
}

// ---- delivery log -----------------------------------------------------------------------------------------------

function statusOf(ev) {
  const s = ev.payload?.status ?? ev.status;
  if (s) return s;
  if (ev.payload?.error_reason || /fail/i.test(ev.event_name ?? '')) return 'failed';
  return 'success';
}

async function deliveryLog(slot, query, signal) {
  const errSlot = h('div');
  const okSlot = h('div');
  const dayAgo = new Date(Date.now() - 24 * 3600 * 1000);
  const status = select([['all', 'All'], ['failed', 'Failed'], ['success', 'Delivered']], query.get('status') ?? 'all', { name: 'status' });
  const roomSel = h('select', { name: 'room_id' }, h('option', { value: '' }, 'All rooms'));
  const event = select([['', 'All events'], ...EVENTS.map((e) => [e, e])], query.get('event') ?? '', { name: 'event' });
  const from = h('input', { type: 'datetime-local', name: 'from', value: query.get('from') ?? localInput(dayAgo) });
  const to = h('input', { type: 'datetime-local', name: 'to', value: query.get('to') ?? '' });
  const page = Math.max(1, Number(query.get('page')) || 1);
  const apply = h('button', { type: 'submit', class: 'ghost' }, 'Apply');
  const filterForm = h('form', { class: 'filters-form', 'aria-label': 'Filter deliveries' }, field('Status', status), field('Room', roomSel), field('Event', event), field('From', from), field('To', to), apply);
  const setQuery = (p = 1) => {
    location.hash = `#/webhooks${qs({ status: status.value === 'all' ? undefined : status.value, room_id: roomSel.value, event: event.value, from: from.value, to: to.value, page: p > 1 ? p : undefined })}`;
  };
  filterForm.addEventListener('submit', (e) => {
    e.preventDefault();
    setQuery();
  });
  const body = h('div');
  const replayAll = h('button', { type: 'button', class: 'ghost' }, 'Replay failed deliveries in this range');
  slot.append(card('Delivery log', filterForm, errSlot, okSlot, body, h('div', { class: 'actions' }, replayAll)));

  const roomMap = await rooms().catch(() => new Map());
  const wantedRoom = query.get('room_id') ?? '';
  roomSel.append(...[...roomMap.values()].sort((a, b) => a.name.localeCompare(b.name)).map((r) => h('option', { value: r.id, selected: r.id === wantedRoom }, r.name)));

  const filters = {
    status: status.value,
    room_id: wantedRoom || undefined,
    event_names: event.value || undefined,
    start_time: utc(from.value),
    end_time: utc(to.value),
  };

  const replay = (button, body) =>
    busy(button, errSlot, async () => {
      clear(okSlot);
      const r = await post('/v2/analytics/webhooks/replay', body);
      okSlot.append(banner('ok', `Replay ${r.status ?? 'started'}${r.workflow_id ? ` (${r.workflow_id})` : ''}. ${r.message ?? ''}`));
      toast('Replay queued');
    });
  replayAll.addEventListener('click', () =>
    replay(replayAll, {
      status: 'failed',
      ...(filters.start_time ? { start_time: filters.start_time } : {}),
      ...(filters.end_time ? { end_time: filters.end_time } : {}),
      ...(filters.room_id ? { room_id: filters.room_id } : {}),
      ...(filters.event_names ? { event_names: [filters.event_names] } : {}),
    }),
  );

  let res;
  try {
    res = await get(`/v2/analytics/webhooks${qs({ ...filters, limit: 50, page })}`, { signal });
  } catch (err) {
    if (err.name === 'AbortError') return;
    if (isMissingRoute(err)) {
      replayAll.hidden = true;
      body.append(banner('info', 'The delivery log is not available on this server yet (GET /v2/analytics/webhooks is not a route).'));
    } else errSlot.append(errorBanner(err));
    return;
  }
  const events = res.events ?? res.data ?? [];
  const table = dataTable({
    caption: 'Webhook deliveries',
    filterPlaceholder: 'Filter this page',
    rowKey: (e) => e.event_id ?? e.id,
    rows: events,
    empty: emptyState('No deliveries in this range', 'Events appear here once they are sent to a webhook URL.'),
    columns: [
      { label: 'Time', value: (e) => e.event_timestamp ?? e.timestamp, render: (e) => timeEl(e.event_timestamp ?? e.timestamp) },
      { label: 'Event', value: (e) => e.payload?.original_event_name ?? e.event_name, render: (e) => h('code', null, e.payload?.original_event_name ?? e.event_name) },
      { label: 'Room', value: (e) => roomMap.get(e.room_id)?.name ?? e.room_id ?? '', render: (e) => (e.room_id ? h('a', { href: `#/rooms/${e.room_id}` }, roomMap.get(e.room_id)?.name ?? e.room_id) : '—') },
      {
        label: 'Status',
        value: statusOf,
        render: (e) =>
          h(
            'span',
            { class: 'row-actions' },
            badge(statusOf(e), { failed: 'bad', success: 'ok', pending: 'warn' }[statusOf(e)]),
            e.payload?.is_replay ? badge('replay', 'info') : null,
          ),
      },
      { label: 'Attempts', value: (e) => e.payload?.attempts ?? '', render: (e) => String(e.payload?.attempts ?? '—') },
      { label: 'HTTP', value: (e) => e.payload?.status_code ?? '', render: (e) => String(e.payload?.status_code ?? '—') },
      { label: 'Target', value: (e) => e.payload?.webhook_url ?? '', render: (e) => h('span', { class: 'wrap small' }, e.payload?.webhook_url ?? '—') },
      { label: 'Error', value: (e) => e.payload?.error_reason ?? '' },
      {
        label: 'Actions',
        sortable: false,
        render: (e) => {
          const name = e.payload?.original_event_name ?? e.event_name;
          const at = new Date(e.event_timestamp ?? e.timestamp);
          if (Number.isNaN(at.getTime())) return shortId(e.event_id);
          const b = h('button', { type: 'button', class: 'ghost small', 'aria-label': `Replay ${name} of ${at.toISOString()}` }, 'Replay');
          // roomcast's replay takes event ids (an extension); the reference's API only selects by time range
          // and event name, so without an id a one-second window around this delivery is the closest match
          b.addEventListener('click', () =>
            replay(
              b,
              e.event_id
                ? { event_ids: [e.event_id] }
                : {
                    start_time: new Date(at.getTime() - 1000).toISOString(),
                    end_time: new Date(at.getTime() + 1000).toISOString(),
                    ...(e.room_id ? { room_id: e.room_id } : {}),
                    ...(name ? { event_names: [name] } : {}),
                    status: 'all',
                  },
            ),
          );
          return b;
        },
      },
    ],
  });
  const pg = res.pagination ?? {};
  const pager = h(
    'nav',
    { class: 'pager', 'aria-label': 'Delivery log pages' },
    h('button', { type: 'button', class: 'ghost small', disabled: !(pg.has_prev ?? page > 1), onclick: () => setQuery(page - 1) }, 'Previous'),
    h('span', { class: 'muted small' }, `Page ${pg.current_page ?? page}${pg.total_pages ? ` of ${pg.total_pages}` : ''}${pg.total_items !== undefined ? ` · ${pg.total_items} deliveries` : ''}`),
    h('button', { type: 'button', class: 'ghost small', disabled: !pg.has_next, onclick: () => setQuery(page + 1) }, 'Next'),
  );
  body.append(table.el, pager);
}
