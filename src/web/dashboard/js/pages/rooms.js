// Rooms: the list (enabled / disabled, by template), "new room", enable/disable.
import { get, listAll, post, qs } from '../api.js';
import { badge, busy, card, dataTable, emptyState, errorBanner, field, fill, h, pageHeader, select, timeEl } from '../dom.js';
import { forget, templates } from '../lookup.js';

export async function list(view, { query, signal }) {
  document.title = 'Rooms · roomcast dashboard';
  const state = { enabled: query.get('enabled') !== 'false', template: query.get('template_id') ?? '' };
  const errSlot = h('div');
  const body = h('div');

  // ---- new room
  const name = h('input', { maxlength: '255', pattern: '[a-zA-Z0-9.:_\\-]+', placeholder: 'optional, e.g. standup', autocomplete: 'off', spellcheck: 'false' });
  const template = h('select', { required: true });
  const description = h('input', { maxlength: '1000', autocomplete: 'off' });
  const createBtn = h('button', { type: 'submit', class: 'primary' }, 'Create room');
  const createErr = h('div');
  const form = h(
    'form',
    { class: 'inline-form', 'aria-label': 'New room' },
    field('Name', name, 'Letters, digits and . : _ -; leave empty for a generated name.'),
    field('Template', template),
    field('Description', description),
    createBtn,
  );
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    if (!form.reportValidity()) return;
    busy(createBtn, createErr, async () => {
      const n = name.value.trim();
      if (n) {
        // POST /v2/rooms with a taken name returns (and updates) that room: say so instead
        const [on, off] = await Promise.all([get(`/v2/rooms${qs({ name: n, enabled: true })}`), get(`/v2/rooms${qs({ name: n, enabled: false })}`)]);
        const taken = [...on.data, ...off.data][0];
        if (taken) {
          createErr.append(errorBanner({ message: 'A room with this name exists', details: [`“${taken.name}” is room ${taken.id}`] }));
          return;
        }
      }
      const room = await post('/v2/rooms', { ...(n ? { name: n } : {}), template_id: template.value, ...(description.value.trim() ? { description: description.value.trim() } : {}) });
      // a room is joined through its codes: make one per role right away
      await post(`/v2/room-codes/room/${room.id}`).catch(() => null);
      forget('rooms');
      location.hash = `#/rooms/${room.id}`;
    });
  });

  // ---- filters
  const statusSel = select([['true', 'Enabled'], ['false', 'Disabled']], String(state.enabled), { 'aria-label': 'Show rooms' });
  const templateSel = h('select', { 'aria-label': 'Filter by template' });
  const setQuery = () => {
    const q = qs({ enabled: statusSel.value === 'false' ? 'false' : undefined, template_id: templateSel.value || undefined });
    location.hash = `#/rooms${q}`;
  };
  statusSel.addEventListener('change', setQuery);
  templateSel.addEventListener('change', setQuery);

  view.append(pageHeader('Rooms'), errSlot, card('New room', form, createErr), body);

  let byId;
  try {
    byId = await templates();
  } catch (err) {
    if (err.name !== 'AbortError') errSlot.append(errorBanner(err));
    return;
  }
  const tpls = [...byId.values()];
  const def = tpls.find((t) => t.name === 'default') ?? tpls[0];
  template.append(...tpls.map((t) => h('option', { value: t.id, selected: t.id === def?.id }, t.name)));
  templateSel.append(h('option', { value: '' }, 'All templates'), ...tpls.map((t) => h('option', { value: t.id, selected: t.id === state.template }, t.name)));

  const load = () => listAll('/v2/rooms', { enabled: state.enabled, template_id: state.template || undefined }, { signal });
  let rows;
  try {
    rows = await load();
  } catch (err) {
    if (err.name !== 'AbortError') errSlot.append(errorBanner(err));
    return;
  }
  const table = dataTable({
    caption: 'Rooms',
    filterPlaceholder: 'Filter rooms by name, id or description',
    toolbar: h('div', { class: 'filters' }, statusSel, templateSel),
    rowKey: (r) => r.id,
    rows,
    empty: emptyState(state.enabled ? 'No rooms yet' : 'No disabled rooms', state.enabled ? 'Create one above.' : null),
    columns: [
      { label: 'Name', value: (r) => r.name, render: (r) => h('a', { href: `#/rooms/${r.id}` }, r.name) },
      { label: 'Id', value: (r) => r.id, render: (r) => h('code', { class: 'id' }, r.id) },
      { label: 'Template', value: (r) => byId.get(r.template_id)?.name ?? r.template_id, render: (r) => h('a', { href: `#/templates/${r.template_id}` }, byId.get(r.template_id)?.name ?? r.template_id) },
      { label: 'Description', value: (r) => r.description ?? '' },
      { label: 'Created', value: (r) => r.created_at, render: (r) => timeEl(r.created_at) },
      { label: 'Status', value: (r) => (r.enabled ? 'enabled' : 'disabled'), render: (r) => badge(r.enabled ? 'enabled' : 'disabled') },
      {
        label: 'Actions',
        sortable: false,
        render: (r) =>
          h(
            'div',
            { class: 'row-actions' },
            h('a', { class: 'button ghost small', href: `#/rooms/${r.id}` }, 'Open'),
            h(
              'button',
              {
                type: 'button',
                class: 'ghost small',
                'aria-label': `${r.enabled ? 'Disable' : 'Enable'} room ${r.name}`,
                onclick: (e) =>
                  busy(e.currentTarget, errSlot, async () => {
                    await post(`/v2/rooms/${r.id}`, { enabled: !r.enabled });
                    forget('rooms');
                    table.setRows((rows = rows.filter((x) => x.id !== r.id)));
                  }),
              },
              r.enabled ? 'Disable' : 'Enable',
            ),
          ),
      },
    ],
  });
  fill(body, table.el);
}
