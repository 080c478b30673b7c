// Sessions: the list (by room, active/ended, time range) and one session — peers with join/leave times,
// its recordings and live streams, and asset downloads through presigned URLs with an inline player.
import { get, isMissingRoute, listAll, qs } from '../api.js';
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
  fmtBytes,
  fmtDuration,
  h,
  pageHeader,
  secondsBetween,
  select,
  shortId,
  timeEl,
} from '../dom.js';
import { rooms } from '../lookup.js';
import { hlsPlayer, mp4Player } from '../player.js';

const PAGE = 25;

function endOf(s) {
  if (s.active) return null;
  const lefts = Object.values(s.peers ?? {}).map((p) => p.left_at).filter(Boolean).sort();
  return lefts.at(-1) ?? s.updated_at;
}

/** datetime-local value → RFC3339 UTC, or undefined */
function utc(v) {
  if (!v) return undefined;
  const d = new Date(v);
  return Number.isNaN(d.getTime()) ? undefined : d.toISOString();
}

export async function list(view, { query, signal }) {
  document.title = 'Sessions · roomcast dashboard';
  const errSlot = h('div');
  const body = h('div');
  const roomSel = h('select', { name: 'room_id' });
  const status = select([['', 'All'], ['true', 'Active'], ['false', 'Ended']], query.get('active') ?? '', { name: 'active' });
  const after = h('input', { type: 'datetime-local', name: 'after', value: query.get('after') ?? '' });
  const before = h('input', { type: 'datetime-local', name: 'before', value: query.get('before') ?? '' });
  const apply = h('button', { type: 'submit', class: 'ghost' }, 'Apply');
  const form = h(
    'form',
    { class: 'filters-form', 'aria-label': 'Filter sessions' },
    field('Room', roomSel),
    field('Status', status),
    field('Started after', after),
    field('Started before', before),
    apply,
  );
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    location.hash = `#/sessions${qs({ room_id: roomSel.value, active: status.value, after: after.value, before: before.value })}`;
  });
  view.append(pageHeader('Sessions'), card(null, form), errSlot, body);

  let byId = new Map();
  try {
    byId = await rooms();
  } catch (err) {
    if (err.name !== 'AbortError') errSlot.append(errorBanner(err));
  }
  const wanted = query.get('room_id') ?? '';
  roomSel.append(h('option', { value: '' }, 'All rooms'), ...[...byId.values()].sort((a, b) => a.name.localeCompare(b.name)).map((r) => h('option', { value: r.id, selected: r.id === wanted }, r.name)));
  if (wanted && !byId.has(wanted)) roomSel.append(h('option', { value: wanted, selected: true }, wanted));

  const params = { room_id: wanted || undefined, active: query.get('active') || undefined, after: utc(query.get('after')), before: utc(query.get('before')) };
  let rows = [];
  let last;
  const more = h('button', { type: 'button', class: 'ghost' }, 'Load more');
  const roomName = (id) => byId.get(id)?.name ?? id;
  const table = dataTable({
    caption: 'Sessions',
    filterPlaceholder: 'Filter loaded sessions',
    rowKey: (s) => s.id,
    rows,
    empty: emptyState('No sessions', 'A session starts when the first peer joins a room.'),
    columns: [
      { label: 'Session', value: (s) => s.id, render: (s) => h('a', { href: `#/sessions/${s.id}`, 'aria-label': `Session ${s.id}` }, h('code', { class: 'id' }, s.id)) },
      { label: 'Room', value: (s) => roomName(s.room_id), render: (s) => h('a', { href: `#/rooms/${s.room_id}` }, roomName(s.room_id)) },
      { label: 'Started', value: (s) => s.created_at, render: (s) => timeEl(s.created_at) },
      { label: 'Ended', value: (s) => endOf(s) ?? '', render: (s) => (s.active ? badge('active') : timeEl(endOf(s))) },
      { label: 'Duration', value: (s) => secondsBetween(s.created_at, endOf(s) ?? undefined), render: (s) => fmtDuration(secondsBetween(s.created_at, endOf(s) ?? undefined)) },
      { label: 'Peers', value: (s) => Object.keys(s.peers ?? {}).length },
    ],
  });
  body.append(table.el, h('div', { class: 'actions' }, more));

  async function loadPage() {
    const page = await get(`/v2/sessions${qs({ ...params, limit: PAGE, start: last })}`, { signal });
    rows = [...rows, ...(page.data ?? [])];
    last = page.last;
    more.hidden = !page.last || (page.data ?? []).length < PAGE;
    table.setRows(rows);
  }
  more.addEventListener('click', () => busy(more, errSlot, loadPage));
  try {
    await loadPage();
  } catch (err) {
    if (err.name !== 'AbortError') errSlot.append(errorBanner(err));
  }
}

// ---- one session ----------------------------------------------------------------------------------------------

const fileName = (path) => String(path ?? '').split('/').pop() || 'asset';

function assetDescription(a) {
  const m = a.metadata ?? {};
  const parts = [];
  if (m.resolution) parts.push(`${m.resolution.width}×${m.resolution.height}`);
  if (m.layer !== undefined) parts.push(`layer ${m.layer}`);
  if (m.num_layers) parts.push(`${m.num_layers} layers, up to ${m.max_width}×${m.max_height}`);
  if (m.output_mode) parts.push(m.output_mode);
  return parts.join(', ');
}

export async function view(root, { params, signal }) {
  const [id] = params;
  const errSlot = h('div');
  root.append(h('p', { class: 'crumbs' }, h('a', { href: '#/sessions' }, 'Sessions'), ' / '), errSlot);
  let s;
  try {
    s = await get(`/v2/sessions/${id}`, { signal });
  } catch (err) {
    if (err.name !== 'AbortError') errSlot.append(errorBanner(err));
    return;
  }
  const roomMap = await rooms().catch(() => new Map());
  const roomName = roomMap.get(s.room_id)?.name ?? s.room_id;
  document.title = `Session ${id} · roomcast dashboard`;
  const end = endOf(s);
  root.append(
    pageHeader(`Session in ${roomName}`, s.active ? badge('active') : badge('ended')),
    h(
      'dl',
      { class: 'kv summary' },
      h('dt', null, 'Session'),
      h('dd', null, h('code', null, s.id)),
      h('dt', null, 'Room'),
      h('dd', null, h('a', { href: `#/rooms/${s.room_id}` }, roomName)),
      h('dt', null, 'Started'),
      h('dd', null, timeEl(s.created_at)),
      h('dt', null, 'Ended'),
      h('dd', null, s.active ? 'still running' : timeEl(end)),
      h('dt', null, 'Duration'),
      h('dd', null, fmtDuration(secondsBetween(s.created_at, end ?? undefined))),
    ),
  );

  const peers = Object.values(s.peers ?? {}).sort((a, b) => a.joined_at.localeCompare(b.joined_at));
  root.append(
    card(
      'Peers',
      dataTable({
        caption: 'Peers of the session',
        filterPlaceholder: peers.length > 5 ? 'Filter peers' : null,
        rowKey: (p) => p.id,
        rows: peers,
        empty: emptyState('No peers recorded'),
        columns: [
          { label: 'Name', value: (p) => p.name || '(no name)' },
          { label: 'Role', value: (p) => p.role },
          { label: 'User id', value: (p) => p.user_id, render: (p) => (p.user_id ? h('code', null, p.user_id) : '—') },
          { label: 'Joined', value: (p) => p.joined_at, render: (p) => timeEl(p.joined_at) },
          { label: 'Left', value: (p) => p.left_at ?? '', render: (p) => (p.left_at ? timeEl(p.left_at) : badge('in room', 'live')) },
          { label: 'Time in room', value: (p) => secondsBetween(p.joined_at, p.left_at ?? undefined), render: (p) => fmtDuration(secondsBetween(p.joined_at, p.left_at ?? undefined)) },
        ],
      }).el,
    ),
  );

  const recSlot = h('div', null, h('p', { class: 'muted' }, 'Loading…'));
  const streamSlot = h('div', null, h('p', { class: 'muted' }, 'Loading…'));
  const assetSlot = h('div', null, h('p', { class: 'muted' }, 'Loading…'));
  const playerSlot = h('div', { class: 'player-slot' });
  root.append(card('Recordings', recSlot), card('Live streams', streamSlot), card('Assets', h('p', { class: 'muted small' }, 'Downloads use short-lived presigned URLs.'), assetSlot, playerSlot));

  const jobColumns = (extra) => [
    { label: 'Id', value: (r) => r.id, render: (r) => shortId(r.id) },
    { label: 'Status', value: (r) => r.status, render: (r) => badge(r.status) },
    { label: 'Started', value: (r) => r.started_at ?? '', render: (r) => timeEl(r.started_at) },
    { label: 'Stopped', value: (r) => r.stopped_at ?? '', render: (r) => timeEl(r.stopped_at) },
    { label: 'Duration', value: (r) => (r.started_at && r.stopped_at ? secondsBetween(r.started_at, r.stopped_at) : null), render: (r) => (r.started_at && r.stopped_at ? fmtDuration(secondsBetween(r.started_at, r.stopped_at)) : '—') },
    ...extra,
    { label: 'Stop reason', value: (r) => [r.stop_reason, r.error_message].filter(Boolean).join(' · ') },
  ];

  const recordings = listAll('/v2/recordings', { session_id: s.id }, { signal }).then(
    (rows) =>
      fill(recSlot, 
        dataTable({
          caption: 'Recordings of the session',
          rowKey: (r) => r.id,
          rows,
          empty: emptyState('No recordings in this session'),
          columns: jobColumns([{ label: 'Resolution', value: (r) => (r.resolution ? `${r.resolution.width}×${r.resolution.height}` : '') }]),
        }).el,
      ),
    (err) => err.name !== 'AbortError' && fill(recSlot, errorBanner(err)),
  );
  const streams = listAll('/v2/live-streams', { session_id: s.id }, { signal }).then(
    (rows) =>
      fill(streamSlot, 
        dataTable({
          caption: 'Live streams of the session',
          rowKey: (r) => r.id,
          rows,
          empty: emptyState('No live streams in this session'),
          columns: jobColumns([
            { label: 'Recording', value: (r) => [r.recording?.hls_vod && 'VOD', r.recording?.single_file_per_layer && 'MP4 per layer'].filter(Boolean).join(', ') || 'off' },
          ]),
        }).el,
      ),
    (err) => {
      if (err.name === 'AbortError') return;
      fill(streamSlot, isMissingRoute(err) ? banner('info', 'Live streaming is not available on this server yet (GET /v2/live-streams is not a route).') : errorBanner(err));
    },
  );

  let player = null;
  const play = (a, url) => {
    player?.destroy();
    clear(playerSlot);
    player = a.type === 'room-vod' ? hlsPlayer(url, { label: `Asset ${fileName(a.path)}` }) : mp4Player(url, `Asset ${fileName(a.path)}`);
    playerSlot.append(h('h3', null, `Playing ${a.type} · ${fileName(a.path)}`), player.el);
    player.video.focus();
  };
  const presigned = (a) => get(`/v2/recording-assets/${a.id}/presigned-url${qs({ presign_duration: 3600 })}`);
  const assetErr = h('div');
  const assets = listAll('/v2/recording-assets', { session_id: s.id }, { signal }).then(
    (rows) =>
      fill(assetSlot, 
        assetErr,
        dataTable({
          caption: 'Assets of the session',
          filterPlaceholder: rows.length > 5 ? 'Filter assets' : null,
          rowKey: (a) => a.id,
          rows,
          empty: emptyState('No assets yet', 'Assets appear once a recording or live stream of this session has finished.'),
          columns: [
            { label: 'Type', value: (a) => a.type, render: (a) => h('strong', null, a.type) },
            { label: 'File', value: (a) => fileName(a.path), render: (a) => h('code', { class: 'wrap', title: a.path }, fileName(a.path)) },
            { label: 'Details', value: (a) => assetDescription(a) },
            { label: 'Status', value: (a) => a.status, render: (a) => badge(a.status) },
            { label: 'Size', value: (a) => a.size, render: (a) => fmtBytes(a.size) },
            { label: 'Duration', value: (a) => a.duration, render: (a) => (a.duration ? fmtDuration(a.duration) : '—') },
            { label: 'Created', value: (a) => a.created_at, render: (a) => timeEl(a.created_at) },
            {
              label: 'Actions',
              sortable: false,
              render: (a) => {
                if (a.status !== 'completed') return '—';
                const dl = h('button', { type: 'button', class: 'ghost small', 'aria-label': `Download ${fileName(a.path)}` }, 'Download');
                dl.addEventListener('click', () =>
                  busy(dl, assetErr, async () => {
                    const p = await presigned(a);
                    const link = h('a', { href: p.url, download: fileName(a.path), hidden: true });
                    document.body.append(link);
                    link.click();
                    link.remove();
                  }),
                );
                const playable = (a.type === 'room-composite' || a.type === 'room-composite-legacy' || a.type === 'stream' || a.type === 'room-vod') && !/\.zip$/i.test(a.path);
                const pb = playable ? h('button', { type: 'button', class: 'ghost small', 'aria-label': `Play ${fileName(a.path)}` }, 'Play') : null;
                pb?.addEventListener('click', () => busy(pb, assetErr, async () => play(a, (await presigned(a)).url)));
                return h('div', { class: 'row-actions' }, dl, pb);
              },
            },
          ],
        }).el,
      ),
    (err) => err.name !== 'AbortError' && fill(assetSlot, errorBanner(err)),
  );
  await Promise.all([recordings, streams, assets]);
  return () => player?.destroy();
}
