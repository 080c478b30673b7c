// One template: Roles, Recording, Live streaming and Storage tabs (#/templates/<id>/<tab>).
import { del, get, post } from '../api.js';
import {
  append,
  banner,
  busy,
  card,
  checkbox,
  clear,
  copyButton,
  dataTable,
  emptyState,
  errorBanner,
  field,
  fmtDuration,
  h,
  intOf,
  numberInput,
  pageHeader,
  select,
} from '../dom.js';
import { forget } from '../lookup.js';
import { HIDDEN_ROLE, RESOLUTIONS, loadTemplate, storageLabel, visibleRoles } from './templates.js';

const TABS = [
  ['roles', 'Roles'],
  ['recording', 'Recording'],
  ['live', 'Live streaming'],
  ['storage', 'Storage'],
];

export async function view(root, { params, signal }) {
  const [id, tab = 'roles'] = params;
  const errSlot = h('div');
  root.append(errSlot);
  let t;
  try {
    t = await loadTemplate(id, signal);
  } catch (err) {
    if (err.name !== 'AbortError') errSlot.append(errorBanner(err));
    return;
  }
  document.title = `${t.name} · Templates · roomcast dashboard`;
  const tabs = h(
    'nav',
    { class: 'tabs', 'aria-label': 'Template sections' },
    TABS.map(([key, label]) => h('a', { href: `#/templates/${t.id}/${key}`, 'aria-current': key === tab ? 'page' : false, dataset: { tab: key } }, label)),
  );
  const body = h('div', { class: 'tab-body' });
  root.prepend(
    h('p', { class: 'crumbs' }, h('a', { href: '#/templates' }, 'Templates'), ' / '),
    pageHeader(t.name, h('span', { class: 'muted small' }, 'id ', h('code', null, t.id), ' '), copyButton(t.id, 'Copy id', 'Template id copied')),
  );
  root.append(tabs, body);
  const render = { roles: rolesTab, recording: recordingTab, live: liveTab, storage: storageTab }[tab];
  if (!render) return void body.append(errorBanner({ message: 'Unknown section', details: [`${tab} is not a template section`] }));
  await render(body, t, signal);
}

const reloadTab = () => window.dispatchEvent(new HashChangeEvent('hashchange'));

// ---- roles ------------------------------------------------------------------------------------------

const PERMISSIONS = [
  ['endRoom', 'End room'],
  ['removeOthers', 'Remove others'],
  ['mute', 'Mute others'],
  ['unmute', 'Ask to unmute'],
  ['changeRole', 'Change roles'],
  ['sendRoomState', 'Send room state'],
  ['pollRead', 'Read polls'],
  ['pollWrite', 'Create polls'],
  ['browserRecording', 'Start/stop recording'],
  ['rtmpStreaming', 'Start/stop RTMP'],
  ['hlsStreaming', 'Start/stop HLS'],
];

function rolesTab(body, t) {
  const roles = visibleRoles(t);
  const errSlot = h('div');
  const addBtn = h('button', { type: 'button', class: 'primary', onclick: () => roleDialog(t, null) }, 'Add role');
  const table = dataTable({
    caption: 'Roles',
    filterPlaceholder: 'Filter roles',
    rowKey: (r) => r.name,
    rows: roles,
    toolbar: addBtn,
    empty: emptyState('No roles', 'Add a role so people can join rooms of this template.'),
    columns: [
      { label: 'Role', value: (r) => r.name, render: (r) => h('strong', null, r.name) },
      { label: 'Publishes', value: (r) => (r.publishParams?.allowed ?? []).join(', ') || 'nothing' },
      { label: 'Sees', value: (r) => (r.subscribeParams?.subscribeToRoles ?? []).join(', ') || 'no one' },
      {
        label: 'Permissions',
        value: (r) => PERMISSIONS.filter(([k]) => r.permissions?.[k]).map(([, l]) => l).join(', ') || 'none',
        render: (r) => {
          const on = PERMISSIONS.filter(([k]) => r.permissions?.[k]);
          return h('span', { title: on.map(([, l]) => l).join(', ') || 'none' }, `${on.length} of ${PERMISSIONS.length}`);
        },
      },
      { label: 'Priority', value: (r) => r.priority },
      { label: 'Max peers', value: (r) => r.maxPeerCount, render: (r) => (r.maxPeerCount === 0 ? 'unlimited' : r.maxPeerCount === -1 ? 'none' : String(r.maxPeerCount)) },
      {
        label: 'Actions',
        sortable: false,
        render: (r) =>
          h(
            'div',
            { class: 'row-actions' },
            h('button', { type: 'button', class: 'ghost small', onclick: () => roleDialog(t, r), 'aria-label': `Edit role ${r.name}` }, 'Edit'),
            h(
              'button',
              {
                type: 'button',
                class: 'ghost small danger',
                'aria-label': `Delete role ${r.name}`,
                onclick: (e) => {
                  if (!confirm(`Delete role “${r.name}”? Its room codes stop working.`)) return;
                  busy(e.currentTarget, errSlot, async () => {
                    await del(`/v2/templates/${t.id}/roles/${encodeURIComponent(r.name)}`);
                    forget('templates');
                    reloadTab();
                  });
                },
              },
              'Delete',
            ),
          ),
      },
    ],
  });
  body.append(errSlot, table.el, h('p', { class: 'muted small' }, `The recorder joins rooms with the hidden role ${HIDDEN_ROLE}: it publishes nothing and never counts as a participant.`));
}

function roleDialog(t, role) {
  const isNew = !role;
  const r = role ?? { name: '', publishParams: { allowed: ['audio', 'video', 'screen'] }, subscribeParams: { subscribeToRoles: [] }, permissions: {}, priority: 1, maxPeerCount: 0 };
  const errSlot = h('div');
  const name = h('input', { value: r.name, required: true, pattern: '[a-zA-Z0-9_\\-]{1,100}', readonly: !isNew, autocomplete: 'off' });
  const allowed = new Set(r.publishParams?.allowed ?? []);
  const pub = ['audio', 'video', 'screen'].map((k) => ({ k, ...checkbox(k[0].toUpperCase() + k.slice(1), allowed.has(k)) }));
  const v = r.publishParams?.video ?? {};
  const vw = numberInput(v.width ?? 1280, { min: 50, max: 1920 });
  const vh = numberInput(v.height ?? 720, { min: 50, max: 1080 });
  const vb = numberInput(v.bitRate ?? 1500, { min: 30, max: 2000 });
  const vf = numberInput(v.frameRate ?? 30, { min: 1, max: 30 });
  const others = visibleRoles(t).map((x) => x.name);
  const subs = new Set(r.subscribeParams?.subscribeToRoles ?? []);
  const subChecks = others.map((n) => ({ n, ...checkbox(n, subs.has(n)) }));
  const perms = PERMISSIONS.map(([k, label]) => ({ k, ...checkbox(label, r.permissions?.[k] ?? (isNew && ['browserRecording', 'rtmpStreaming', 'hlsStreaming', 'pollRead'].includes(k))) }));
  const priority = numberInput(r.priority ?? 1, { min: 1, max: 5, required: true });
  const maxPeers = numberInput(r.maxPeerCount ?? 0, { min: -1, max: 100000, required: true });
  const save = h('button', { type: 'submit', class: 'primary' }, isNew ? 'Add role' : 'Save role');
  const cancel = h('button', { type: 'button', class: 'ghost', onclick: () => dlg.close() }, 'Cancel');
  const form = h(
    'form',
    { method: 'dialog', class: 'stack' },
    h('h2', null, isNew ? 'New role' : `Role ${r.name}`),
    errSlot,
    field('Name', name, isNew ? 'Letters, digits, _ and -' : null),
    h('fieldset', null, h('legend', null, 'Publishes'), h('div', { class: 'checks' }, pub.map((c) => c.el))),
    h('fieldset', null, h('legend', null, 'Camera video'), h('div', { class: 'grid4' }, field('Width', vw), field('Height', vh), field('Bitrate (kbps)', vb), field('Frame rate', vf))),
    h('fieldset', null, h('legend', null, 'Sees (subscribes to)'), subChecks.length ? h('div', { class: 'checks' }, subChecks.map((c) => c.el)) : h('p', { class: 'muted' }, 'No other roles yet.')),
    h('fieldset', null, h('legend', null, 'Permissions'), h('div', { class: 'checks' }, perms.map((c) => c.el))),
    h('div', { class: 'grid2' }, field('Priority', priority, '1 (highest) to 5'), field('Max peers', maxPeers, '0 = unlimited, −1 = no one may join')),
    h('div', { class: 'actions' }, cancel, save),
  );
  const dlg = h('dialog', { class: 'dialog', 'aria-label': isNew ? 'New role' : `Edit role ${r.name}` }, form);
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    if (!form.reportValidity()) return;
    busy(save, errSlot, async () => {
      const roleName = name.value.trim();
      const subscribeToRoles = subChecks.filter((c) => c.input.checked).map((c) => c.n);
      await post(`/v2/templates/${t.id}/roles/${encodeURIComponent(roleName)}`, {
        publishParams: {
          allowed: pub.filter((c) => c.input.checked).map((c) => c.k),
          video: { width: intOf(vw), height: intOf(vh), bitRate: intOf(vb), frameRate: intOf(vf) },
        },
        subscribeParams: { subscribeToRoles },
        permissions: Object.fromEntries(perms.map((c) => [c.k, c.input.checked])),
        priority: intOf(priority),
        maxPeerCount: intOf(maxPeers),
      });
      forget('templates');
      dlg.close();
      reloadTab();
    });
  });
  dlg.addEventListener('close', () => dlg.remove());
  document.body.append(dlg);
  dlg.showModal();
  (isNew ? name : pub[0].input).focus();
}

// ---- recording ----------------------------------------------------------------------------------------


async function recordingTab(body, t, signal) {
  const errSlot = h('div');
  const okSlot = h('div');
  body.append(errSlot);
  let cfgs;
  try {
    cfgs = await get(`/v2/templates/${t.id}/recordings`, { signal });
  } catch (err) {
    if (err.name !== 'AbortError') errSlot.append(errorBanner(err));
    return;
  }
  const cfg = cfgs[0] ?? { name: 'default', role: HIDDEN_ROLE, maxDuration: 14400, compositeRecording: { browserComposite: {} } };
  const bc = cfg.compositeRecording?.browserComposite ?? {};
  const enabled = checkbox('Enable composite recording', bc.enabled === true, {}, 'Records the room as one video (every participant, as the meeting page shows them) when started from the API, the room view or auto-start.');
  const autoStart = checkbox(
    'Auto-start on room join',
    bc.autoStart === true,
    {},
    'Starts recording when the first peer joins the room. Turning this on disables HLS and RTMP live streaming for this template.',
  );
  const autoStop = numberInput(bc.autoStopTimeout ?? 300, { min: 0, max: 43200, required: true });
  const current = `${bc.width ?? 1280}x${bc.height ?? 720}`;
  const resOptions = RESOLUTIONS.some(([v]) => v === current) ? RESOLUTIONS : [...RESOLUTIONS, [current, `${current.replace('x', ' × ')} (custom)`]];
  const resolution = select(resOptions, current);
  const maxDuration = numberInput(cfg.maxDuration ?? 14400, { min: 1, max: 43200, required: true });
  const maxHint = h('span');
  const showMax = () => (maxHint.textContent = intOf(maxDuration) ? ` = ${fmtDuration(intOf(maxDuration))} (h:mm:ss)` : '');
  maxDuration.addEventListener('input', showMax);
  showMax();
  const roleNames = Object.keys(t.roles ?? {});
  const role = select(roleNames.map((n) => [n, n === HIDDEN_ROLE ? `${n} (hidden recorder role)` : n]), cfg.role);
  const streamNote = h('div');
  const syncNote = () => {
    clear(streamNote);
    autoStart.input.disabled = !enabled.input.checked;
    if (enabled.input.checked && autoStart.input.checked) {
      streamNote.append(banner('warn', 'With auto-start on, HLS and RTMP live streaming are disabled for rooms of this template.'));
    }
  };
  enabled.input.addEventListener('change', syncNote);
  autoStart.input.addEventListener('change', syncNote);
  syncNote();

  const save = h('button', { type: 'submit', class: 'primary' }, 'Save recording settings');
  const form = h(
    'form',
    { class: 'stack', 'aria-label': 'Recording settings' },
    enabled.el,
    autoStart.el,
    streamNote,
    h(
      'div',
      { class: 'grid2' },
      field('Auto-stop timeout (seconds)', autoStop, 'How long to keep recording after the last peer leaves.'),
      field('Resolution', resolution),
      field('Max duration (seconds)', maxDuration, h('span', null, 'The recording stops when it reaches this length.', maxHint)),
      field('Recorder joins as', role),
    ),
    h('div', { class: 'actions' }, save),
  );
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    if (!form.reportValidity()) return;
    clear(okSlot);
    busy(save, errSlot, async () => {
      const [width, height] = resolution.value.split('x').map(Number);
      const next = {
        ...cfg,
        role: role.value,
        maxDuration: intOf(maxDuration),
        compositeRecording: {
          ...cfg.compositeRecording,
          browserComposite: { enabled: enabled.input.checked, autoStart: enabled.input.checked && autoStart.input.checked, autoStopTimeout: intOf(autoStop), width, height },
        },
      };
      const saved = await post(`/v2/templates/${t.id}/recordings`, [next]);
      Object.assign(cfg, saved[0]);
      forget('templates');
      const sbc = saved[0]?.compositeRecording?.browserComposite ?? {};
      okSlot.append(
        banner(
          'ok',
          `Saved. Composite recording is ${sbc.enabled ? 'on' : 'off'}${sbc.autoStart ? ', auto-start on room join is on (live streaming disabled)' : ''}.`,
        ),
      );
    });
  });
  body.append(okSlot, card('Composite recording', form));
}

// ---- live streaming -------------------------------------------------------------------------------------

const DEFAULT_LAYERS = [
  { width: 1280, height: 720, videoBitrate: 2500, audioBitrate: 128 },
  { width: 854, height: 480, videoBitrate: 1200, audioBitrate: 96 },
  { width: 640, height: 360, videoBitrate: 700, audioBitrate: 64 },
];

async function liveTab(body, t, signal) {
  const errSlot = h('div');
  const okSlot = h('div');
  body.append(errSlot, okSlot);
  let d;
  try {
    d = await get(`/v2/templates/${t.id}/destinations`, { signal });
  } catch (err) {
    if (err.name !== 'AbortError') errSlot.append(errorBanner(err));
    return;
  }
  if (d.streamingDisabled) {
    body.append(
      banner('warn', h('strong', null, 'Live streaming is off for this template. '), d.streamingDisabledReason ?? '', ' ', h('a', { href: `#/templates/${t.id}/recording` }, 'Change it in the Recording tab.')),
    );
  }
  const editors = Object.entries(d.hlsDestinations ?? {}).map(([name, dest]) => hlsEditor(name, dest));
  const list = h('div', { class: 'stack' }, editors.map((e) => e.el));
  const none = editors.length ? null : emptyState('No HLS destinations', 'Add one to live stream rooms of this template.');
  const newName = h('input', { pattern: '[a-zA-Z0-9_\\-]{1,100}', placeholder: 'name', autocomplete: 'off', 'aria-label': 'New destination name' });
  const addBtn = h('button', { type: 'button', class: 'ghost' }, 'Add HLS destination');
  addBtn.addEventListener('click', () => {
    const name = newName.value.trim();
    if (!name || !newName.checkValidity() || editors.some((e) => e.name === name && !e.removed)) {
      newName.setCustomValidity(name ? 'Use a new name: letters, digits, _ and -' : 'Enter a name');
      newName.reportValidity();
      newName.setCustomValidity('');
      return;
    }
    const e = hlsEditor(name, { layers: DEFAULT_LAYERS, playlistType: 'live', numPlaylistSegments: 5, videoFrameRate: 30, maxDuration: 14400, autoStopTimeout: 300, recording: {} });
    editors.push(e);
    list.append(e.el);
    none?.remove();
    newName.value = '';
    e.el.querySelector('input')?.focus();
  });
  const save = h('button', { type: 'button', class: 'primary' }, 'Save live streaming settings');
  save.addEventListener('click', () => {
    clear(okSlot);
    const forms = editors.filter((e) => !e.removed);
    if (!forms.every((e) => e.el.querySelector('form').reportValidity())) return;
    busy(save, errSlot, async () => {
      const hlsDestinations = Object.fromEntries(forms.map((e) => [e.name, e.value()]));
      await post(`/v2/templates/${t.id}/destinations`, { hlsDestinations });
      forget('templates');
      okSlot.append(banner('ok', `Saved ${forms.length} HLS destination(s).`));
    });
  });
  const rtmp = Object.values(d.rtmpDestinations ?? {});
  append(body, [
    list,
    none,
    h('div', { class: 'toolbar-row' }, h('div', { class: 'inline-form' }, newName, addBtn), save),
    card(
      'RTMP destinations',
      rtmp.length
        ? h('ul', null, rtmp.map((r) => h('li', null, h('strong', null, r.name), ` — ${(r.rtmpUrls ?? []).length} URL(s), ${r.width}×${r.height}${r.recordingEnabled ? ', recorded' : ''}`)))
        : h('p', { class: 'muted' }, 'None. RTMP destinations are set through POST /v2/templates/<id>/destinations.'),
    ),
  ]);
}

function hlsEditor(name, dest) {
  const ed = { name, removed: false };
  const rec = dest.recording ?? {};
  const maxDuration = numberInput(dest.maxDuration ?? 14400, { min: 1, max: 43200, required: true });
  const playlistType = select([['live', 'Live (sliding window)'], ['event', 'Event (keeps every segment)']], dest.playlistType ?? 'live');
  const segments = numberInput(dest.numPlaylistSegments ?? 5, { min: 3, max: 150 });
  const fps = numberInput(dest.videoFrameRate ?? 30, { min: 1, max: 30 });
  const autoStop = numberInput(dest.autoStopTimeout ?? 300, { min: 0, max: 43200 });
  const metadata = checkbox('Timed metadata', dest.enableMetadataInsertion === true, {}, 'Lets POST …/timed-metadata reach players.');
  const staticUrl = checkbox('Static playback URL', dest.enableStaticUrl === true);
  const vod = checkbox('VOD recording (room-vod asset)', rec.hlsVod === true, {}, 'A playlist of the whole stream, every layer, after the stream ends.');
  const perLayer = checkbox('One MP4 per layer (room-composite assets)', rec.singleFilePerLayer === true);
  const zip = checkbox('Zip the VOD upload', rec.enableZipUpload === true, {}, 'Only with your own bucket (Storage tab).');
  const syncSegments = () => (segments.disabled = playlistType.value !== 'live');
  playlistType.addEventListener('change', syncSegments);
  syncSegments();

  const recorded = new Set((rec.layers ?? dest.layers ?? []).map((l) => `${l.width}x${l.height}`));
  const layerRows = h('tbody');
  const addLayer = (l, record) => {
    const w = numberInput(l.width, { min: 144, max: 1920, required: true, step: 2, 'aria-label': 'Width' });
    const hh = numberInput(l.height, { min: 144, max: 1920, required: true, step: 2, 'aria-label': 'Height' });
    const vb = numberInput(l.videoBitrate, { min: 100, max: 10000, required: true, 'aria-label': 'Video bitrate (kbps)' });
    const ab = numberInput(l.audioBitrate, { min: 16, max: 320, required: true, 'aria-label': 'Audio bitrate (kbps)' });
    const recBox = h('input', { type: 'checkbox', checked: record, 'aria-label': 'Record this layer' });
    const row = h(
      'tr',
      null,
      h('td', { 'data-label': 'Width' }, w),
      h('td', { 'data-label': 'Height' }, hh),
      h('td', { 'data-label': 'Video kbps' }, vb),
      h('td', { 'data-label': 'Audio kbps' }, ab),
      h('td', { 'data-label': 'Record' }, recBox),
      h('td', null, h('button', { type: 'button', class: 'ghost small danger', 'aria-label': 'Remove layer', onclick: () => row.remove() }, 'Remove')),
    );
    row.layer = () => ({ width: intOf(w), height: intOf(hh), videoBitrate: intOf(vb), audioBitrate: intOf(ab), record: recBox.checked });
    layerRows.append(row);
  };
  for (const l of dest.layers ?? []) addLayer(l, recorded.has(`${l.width}x${l.height}`));
  const layersTable = h(
    'table',
    { class: 'table compact' },
    h('caption', { class: 'visually-hidden' }, `Layers of ${name}`),
    h('thead', null, h('tr', null, ['Width', 'Height', 'Video kbps', 'Audio kbps', 'Record', ''].map((x) => h('th', { scope: 'col' }, x)))),
    layerRows,
  );
  const form = h(
    'form',
    { class: 'stack', 'aria-label': `HLS destination ${name}` },
    h(
      'div',
      { class: 'grid3' },
      field('Playlist type', playlistType),
      field('Segments in playlist', segments, 'Live playlists only; 2-second segments.'),
      field('Frame rate', fps),
      field('Max duration (seconds)', maxDuration),
      field('Auto-stop timeout (seconds)', autoStop),
    ),
    h('div', { class: 'checks' }, metadata.el, staticUrl.el),
    h('h3', null, 'Layers'),
    h('p', { class: 'hint' }, 'Highest resolution first; even sizes. “Record” picks the layers recorded as MP4/VOD (all when every box is ticked).'),
    h('div', { class: 'table-wrap' }, layersTable),
    h('div', null, h('button', { type: 'button', class: 'ghost small', onclick: () => addLayer({ width: 640, height: 360, videoBitrate: 700, audioBitrate: 64 }, true) }, 'Add layer')),
    h('h3', null, 'Recording of the stream'),
    h('div', { class: 'checks' }, vod.el, perLayer.el, zip.el),
  );
  form.addEventListener('submit', (e) => e.preventDefault());
  const removeBtn = h('button', { type: 'button', class: 'ghost small danger' }, 'Remove destination');
  ed.el = card(`HLS destination “${name}”`, form, h('div', { class: 'actions' }, removeBtn));
  removeBtn.addEventListener('click', () => {
    ed.removed = true;
    ed.el.remove();
  });
  ed.value = () => {
    const rows = [...layerRows.children].map((r) => r.layer());
    const layers = rows.map(({ record: _r, ...l }) => l);
    const recordedLayers = rows.filter((r) => r.record).map(({ record: _r, ...l }) => l);
    const out = {
      maxDuration: intOf(maxDuration),
      layers,
      playlistType: playlistType.value,
      videoFrameRate: intOf(fps),
      autoStopTimeout: intOf(autoStop),
      enableMetadataInsertion: metadata.input.checked,
      enableStaticUrl: staticUrl.input.checked,
      recording: {
        hlsVod: vod.input.checked,
        singleFilePerLayer: perLayer.input.checked,
        enableZipUpload: zip.input.checked,
        ...(recordedLayers.length && recordedLayers.length < layers.length ? { layers: recordedLayers } : {}),
        ...(rec.presignDuration ? { presignDuration: rec.presignDuration } : {}),
      },
    };
    if (playlistType.value === 'live' && intOf(segments) !== undefined) out.numPlaylistSegments = intOf(segments);
    return out;
  };
  return ed;
}

// ---- storage --------------------------------------------------------------------------------------------

const STORE_TYPES = [
  ['s3', 'Amazon S3 or S3-compatible'],
  ['gs', 'Google Cloud Storage'],
  ['oss', 'Alibaba Cloud OSS'],
  ['azure', 'Azure Blob Storage'],
];

async function storageTab(body, t, signal) {
  const errSlot = h('div');
  const okSlot = h('div');
  body.append(errSlot, okSlot);
  let settings;
  try {
    settings = await get(`/v2/templates/${t.id}/settings`, { signal });
  } catch (err) {
    if (err.name !== 'AbortError') errSlot.append(errorBanner(err));
    return;
  }
  let up = settings.recording?.upload ?? null;
  const where = select([['local', 'This server (local disk, assets kept 15 days)'], ['bucket', 'My own bucket']], up ? 'bucket' : 'local');
  const type = select(STORE_TYPES, up?.type ?? 's3');
  const location = h('input', { value: up?.location ?? '', required: true, maxlength: '255', autocomplete: 'off', spellcheck: 'false' });
  const prefix = h('input', { value: up?.prefix ?? '', maxlength: '1024', autocomplete: 'off', spellcheck: 'false', placeholder: 'recordings' });
  const region = h('input', { value: up?.options?.region ?? '', maxlength: '64', autocomplete: 'off', spellcheck: 'false', placeholder: 'us-east-1' });
  const endpoint = h('input', { type: 'url', value: up?.options?.endpoint ?? '', maxlength: '2048', autocomplete: 'off', spellcheck: 'false', placeholder: 'https://s3.example.com' });
  const key = h('input', { value: up?.credentials?.key ?? '', maxlength: '1024', autocomplete: 'off', spellcheck: 'false' });
  const secret = h('input', { type: 'password', value: up?.credentials?.secretKey ?? '', maxlength: '4096', autocomplete: 'new-password' });
  const labels = {};
  const f = (label, input, hint) => {
    const el = field(label, input, hint);
    labels[input.id] = el.querySelector('label');
    return el;
  };
  const bucketFields = h(
    'div',
    { class: 'grid2' },
    f('Store', type),
    f('Bucket', location),
    f('Path prefix', prefix, 'Optional; objects go under <prefix>/beam/<room_id>/…'),
    f('Region', region),
    f('Endpoint', endpoint, 'Only for S3-compatible stores (MinIO, Ceph, R2…); path-style addressing is used.'),
    f('Access key', key),
    f('Secret', secret, 'A stored secret is shown masked; leave it as is to keep it.'),
  );
  const sync = () => {
    bucketFields.hidden = where.value !== 'bucket';
    location.required = where.value === 'bucket';
    const azure = type.value === 'azure';
    labels[location.id].textContent = azure ? 'Container' : 'Bucket';
    labels[key.id].textContent = azure ? 'Storage account name' : 'Access key';
    labels[secret.id].textContent = azure ? 'Account key' : 'Secret key';
    region.closest('.field').hidden = azure;
    endpoint.closest('.field').hidden = azure;
  };
  where.addEventListener('change', sync);
  type.addEventListener('change', sync);
  sync();

  let dirty = false;
  const testBtn = h('button', { type: 'button', class: 'ghost' }, 'Test upload');
  const testSlot = h('div', { 'aria-live': 'polite' });
  const syncTest = () => {
    testBtn.disabled = dirty || !up;
    testBtn.title = dirty ? 'Save first: the test uses the saved settings' : !up ? 'Assets stay on this server: nothing to test' : '';
  };
  const save = h('button', { type: 'submit', class: 'primary' }, 'Save storage settings');
  const form = h('form', { class: 'stack', 'aria-label': 'Storage settings' }, field('Where recordings go', where), bucketFields, h('div', { class: 'actions' }, testBtn, save));
  form.addEventListener('input', () => {
    dirty = true;
    syncTest();
  });
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    if (!form.reportValidity()) return;
    clear(okSlot);
    clear(testSlot);
    busy(save, errSlot, async () => {
      let upload = null;
      if (where.value === 'bucket') {
        upload = { type: type.value, location: location.value.trim() };
        if (prefix.value.trim()) upload.prefix = prefix.value.trim();
        const options = {};
        if (type.value !== 'azure' && region.value.trim()) options.region = region.value.trim();
        if (type.value !== 'azure' && endpoint.value.trim()) options.endpoint = endpoint.value.trim();
        if (Object.keys(options).length) upload.options = options;
        const credentials = {};
        if (key.value.trim()) credentials.key = key.value.trim();
        if (secret.value) credentials.secretKey = secret.value;
        if (Object.keys(credentials).length) upload.credentials = credentials;
      }
      const saved = await post(`/v2/templates/${t.id}/settings`, { recording: { upload } });
      forget('templates');
      secret.value = saved.recording?.upload?.credentials?.secretKey ?? '';
      dirty = false;
      okSlot.append(banner('ok', `Saved. Recordings go to ${storageLabel(saved)}.`));
      up = saved.recording?.upload ?? null;
      syncTest();
    });
  });
  testBtn.addEventListener('click', () => {
    clear(testSlot);
    busy(testBtn, testSlot, async () => {
      const r = await post('/dashboard/storage-test', { template_id: t.id });
      if (r.ok) {
        testSlot.append(banner('ok', h('strong', null, 'Upload works. '), `Wrote and deleted ${r.key} in ${r.type}://${r.location} (write ${r.write_ms} ms, delete ${r.delete_ms} ms).`));
      } else {
        testSlot.append(
          banner('error', h('strong', null, `The store refused the test ${r.stage === 'connect' ? 'connection' : r.stage}. `), h('div', null, 'Its error: ', h('code', { class: 'wrap' }, r.error)), h('div', { class: 'muted small' }, `object ${r.key} in ${r.type}://${r.location}`)),
        );
      }
    });
  });
  syncTest();
  body.append(card('Storage', h('p', { class: 'muted' }, 'Where composite recordings, VOD and per-layer files of rooms with this template are stored.'), form, testSlot));
}
