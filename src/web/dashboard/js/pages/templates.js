// Templates: the list and "new template".
import { get, listAll, post } from '../api.js';
import { badge, busy, card, dataTable, emptyState, errorBanner, field, fill, h, pageHeader, timeEl } from '../dom.js';
import { forget } from '../lookup.js';

export const HIDDEN_ROLE = '__internal_recorder';

export const RESOLUTIONS = [
  ['854x480', '854 × 480 (480p)'],
  ['1280x720', '1280 × 720 (720p)'],
  ['1920x1080', '1920 × 1080 (1080p)'],
  ['720x1280', '720 × 1280 (portrait 720p)'],
  ['1080x1920', '1080 × 1920 (portrait 1080p)'],
];

export function visibleRoles(t) {
  return Object.values(t.roles ?? {}).filter((r) => !r.hidden && r.name !== HIDDEN_ROLE);
}

export function compositeOf(t) {
  const bc = t.recordings?.[0]?.compositeRecording?.browserComposite;
  // GET omits false booleans: a missing `enabled` is off
  return { enabled: bc?.enabled === true, autoStart: bc?.autoStart === true };
}

export function storageLabel(settings) {
  const up = settings?.recording?.upload;
  return up ? `${up.type}: ${up.location}${up.prefix ? `/${up.prefix}` : ''}` : 'This server (local disk)';
}

export async function list(view, { signal }) {
  document.title = 'Templates · roomcast dashboard';
  const errSlot = h('div');
  const nameInput = h('input', { name: 'name', required: true, maxlength: '255', pattern: '[a-zA-Z0-9 ._:\\-]+', placeholder: 'e.g. webinar', autocomplete: 'off' });
  const createBtn = h('button', { type: 'submit', class: 'primary' }, 'Create template');
  const createErr = h('div');
  const form = h(
    'form',
    { class: 'inline-form', 'aria-label': 'New template' },
    field('Name', nameInput, 'Letters, digits, space and . _ : - only. New templates get host, guest and hls-viewer roles.'),
    createBtn,
  );
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    if (!form.reportValidity()) return;
    busy(createBtn, createErr, async () => {
      const name = nameInput.value.trim();
      const existing = (await listAll('/v2/templates')).find((t) => t.name === name);
      if (existing) {
        createErr.append(errorBanner({ message: 'A template with this name exists', details: [`“${name}” is template ${existing.id}: open it from the list to edit it`] }));
        return;
      }
      const t = await post('/v2/templates', { name });
      forget('templates');
      location.hash = `#/templates/${t.id}`;
    });
  });

  const body = h('div');
  view.append(pageHeader('Templates'), errSlot, card('New template', form, createErr), body);

  try {
    const rows = await listAll('/v2/templates', {}, { signal });
    const table = dataTable({
      caption: 'Templates',
      filterPlaceholder: 'Filter templates',
      rowKey: (t) => t.id,
      rows,
      empty: emptyState('No templates', 'Create one above.'),
      columns: [
        { label: 'Name', value: (t) => t.name, render: (t) => h('a', { href: `#/templates/${t.id}` }, t.name) },
        { label: 'Roles', value: (t) => visibleRoles(t).map((r) => r.name).join(', ') },
        {
          label: 'Composite recording',
          value: (t) => (compositeOf(t).enabled ? (compositeOf(t).autoStart ? 'auto-start' : 'on') : 'off'),
          render: (t) => {
            const c = compositeOf(t);
            return c.enabled ? h('span', null, badge('on', 'ok'), c.autoStart ? [' ', badge('auto-start', 'info')] : null) : badge('off', 'muted');
          },
        },
        {
          label: 'Live streaming',
          value: (t) => (t.destinations?.streamingDisabled ? 'off' : Object.keys(t.destinations?.hlsDestinations ?? {}).length),
          render: (t) =>
            t.destinations?.streamingDisabled
              ? h('span', { title: t.destinations.streamingDisabledReason }, badge('off (auto-start)', 'muted'))
              : `${Object.keys(t.destinations?.hlsDestinations ?? {}).length} HLS destination(s)`,
        },
        { label: 'Storage', value: (t) => storageLabel(t.settings) },
        { label: 'Updated', value: (t) => t.updated_at, render: (t) => timeEl(t.updated_at) },
      ],
    });
    body.append(table.el);
  } catch (err) {
    if (err.name !== 'AbortError') fill(errSlot, errorBanner(err));
  }
}

/** Used by other pages: one template, fresh. */
export const loadTemplate = (id, signal) => get(`/v2/templates/${encodeURIComponent(id)}`, { signal });
