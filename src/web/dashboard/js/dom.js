// Small DOM helpers: an element builder (text only — API data never goes through innerHTML), banners,
// tables with a filter and sorting, form fields, formatting.

const PROPS = new Set(['value', 'checked', 'disabled', 'selected', 'hidden', 'indeterminate', 'open']);

/** h('button', {class: 'primary', onclick}, 'Save') */
export function h(tag, props, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(props ?? {})) {
    if (v === undefined || v === null) continue;
    if (k === 'class') el.className = Array.isArray(v) ? v.filter(Boolean).join(' ') : v;
    else if (k === 'dataset') Object.assign(el.dataset, v);
    else if (k.startsWith('on') && typeof v === 'function') el.addEventListener(k.slice(2), v);
    else if (PROPS.has(k)) el[k] = v;
    else if (v === false) continue;
    else el.setAttribute(k, v === true ? '' : String(v));
  }
  append(el, children);
  return el;
}

export function append(el, children) {
  for (const c of children.flat(Infinity)) {
    if (c === null || c === undefined || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return el;
}

export function clear(el) {
  el.replaceChildren();
  return el;
}

let uid = 0;
export const nextId = (p = 'f') => `${p}-${++uid}`;

// ---- feedback ------------------------------------------------------------------------------------

/** An error banner with the API's {message, details}. */
export function errorBanner(err, { title } = {}) {
  const details = Array.isArray(err?.details) ? err.details : [];
  const status = err?.status ? ` (HTTP ${err.status})` : '';
  return h(
    'div',
    { class: 'banner error', role: 'alert' },
    h('strong', null, title ?? `${err?.message ?? String(err)}${status}`),
    title ? h('div', null, `${err?.message ?? String(err)}${status}`) : null,
    details.length ? h('ul', { class: 'details' }, details.map((d) => h('li', null, d))) : null,
  );
}

export function banner(kind, ...content) {
  return h('div', { class: `banner ${kind}`, role: kind === 'error' ? 'alert' : 'status' }, ...content);
}

/** Replaces the content of a slot with an error banner (or clears it). */
export function showError(slot, err, opts) {
  clear(slot);
  if (err) slot.append(errorBanner(err, opts));
}

export function emptyState(title, text, action) {
  return h('div', { class: 'empty' }, h('p', { class: 'empty-title' }, title), text ? h('p', { class: 'muted' }, text) : null, action ?? null);
}

export function loading(label = 'Loading…') {
  return h('p', { class: 'loading muted', role: 'status' }, label);
}

let toastTimer = 0;
export function toast(text) {
  const el = document.getElementById('toast');
  el.textContent = text;
  el.classList.add('show');
  clearTimeout(toastTimer);
  toastTimer = setTimeout(() => el.classList.remove('show'), 2500);
}

export async function copyText(text, what = 'Copied') {
  try {
    await navigator.clipboard.writeText(text);
  } catch {
    // clipboard API refused (http origin, permissions): select-and-copy through a hidden field
    const ta = h('textarea', { class: 'visually-hidden', 'aria-hidden': 'true' });
    ta.value = text;
    document.body.append(ta);
    ta.select();
    document.execCommand('copy');
    ta.remove();
  }
  toast(`${what}`);
}

export function copyButton(text, label = 'Copy', what) {
  return h('button', { type: 'button', class: 'ghost small', onclick: () => copyText(text, what ?? 'Copied to clipboard'), 'aria-label': `${label}: ${text}` }, label);
}

// ---- forms -----------------------------------------------------------------------------------------

/** A labelled control: field('Name', h('input', …), 'hint'). */
export function field(label, control, hint) {
  const id = control.id || (control.id = nextId());
  const hintEl = hint ? h('p', { class: 'hint', id: `${id}-hint` }, hint) : null;
  if (hintEl) control.setAttribute('aria-describedby', hintEl.id);
  return h('div', { class: 'field' }, h('label', { for: id }, label), control, hintEl);
}

export function checkbox(label, checked, props = {}, hint) {
  const input = h('input', { type: 'checkbox', checked: !!checked, ...props });
  const id = input.id || (input.id = nextId('c'));
  const hintEl = hint ? h('p', { class: 'hint', id: `${id}-hint` }, hint) : null;
  if (hintEl) input.setAttribute('aria-describedby', hintEl.id);
  return { input, el: h('div', { class: 'check' }, input, h('label', { for: id }, label), hintEl) };
}

export function select(options, value, props = {}) {
  return h(
    'select',
    props,
    options.map((o) => {
      const [v, text] = Array.isArray(o) ? o : [o, o];
      return h('option', { value: v, selected: String(v) === String(value) }, text);
    }),
  );
}

export function numberInput(value, props = {}) {
  return h('input', { type: 'number', inputmode: 'numeric', value: value ?? '', ...props });
}

/** Integer of a number input, or undefined when empty. */
export function intOf(input) {
  const v = input.value.trim();
  return v === '' ? undefined : Number(v);
}

/** Runs an async action with its button disabled, showing errors in `slot`. */
export async function busy(button, slot, fn) {
  const label = button.textContent;
  button.disabled = true;
  button.setAttribute('aria-busy', 'true');
  if (slot) clear(slot);
  try {
    return await fn();
  } catch (err) {
    if (slot) slot.append(errorBanner(err));
    else toast(err.message);
    return undefined;
  } finally {
    button.disabled = false;
    button.removeAttribute('aria-busy');
    button.textContent = label;
  }
}

// ---- tables ----------------------------------------------------------------------------------------

/**
 * A table with a text filter and sortable columns.
 * columns: [{label, value: row => sortable/filterable value, render?: row => node|string, class?}]
 */
export function dataTable({ caption, columns, rows, empty, filterPlaceholder, rowKey, toolbar }) {
  let sortCol = -1;
  let sortDir = 1;
  let term = '';
  const tbody = h('tbody');
  const status = h('p', { class: 'muted small table-count', 'aria-live': 'polite' });
  const headCells = columns.map((c, i) => {
    if (c.sortable === false || !c.value) return h('th', { scope: 'col', class: c.class }, c.label);
    const btn = h('button', { type: 'button', class: 'sort', onclick: () => sortBy(i) }, c.label);
    return h('th', { scope: 'col', class: c.class, 'aria-sort': 'none' }, btn);
  });
  const table = h('table', { class: 'table' }, caption ? h('caption', { class: 'visually-hidden' }, caption) : null, h('thead', null, h('tr', null, headCells)), tbody);
  const wrap = h('div', { class: 'table-wrap' }, table);
  const emptyBox = h('div');
  const filter = filterPlaceholder
    ? h('input', { type: 'search', class: 'filter', placeholder: filterPlaceholder, 'aria-label': filterPlaceholder, oninput: (e) => { term = e.target.value.trim().toLowerCase(); draw(); } })
    : null;
  const bar = filter || toolbar ? h('div', { class: 'table-toolbar' }, filter, toolbar ?? null) : null;
  const root = h('div', { class: 'table-block' }, bar, wrap, emptyBox, status);

  function sortBy(i) {
    sortDir = sortCol === i ? -sortDir : 1;
    sortCol = i;
    headCells.forEach((th, j) => th.setAttribute('aria-sort', j === i ? (sortDir > 0 ? 'ascending' : 'descending') : 'none'));
    draw();
  }

  function draw() {
    let list = rows;
    if (term) list = list.filter((r) => columns.some((c) => c.value && String(c.value(r) ?? '').toLowerCase().includes(term)));
    if (sortCol >= 0) {
      const v = columns[sortCol].value;
      list = [...list].sort((a, b) => {
        const x = v(a) ?? '';
        const y = v(b) ?? '';
        return (typeof x === 'number' && typeof y === 'number' ? x - y : String(x).localeCompare(String(y))) * sortDir;
      });
    }
    tbody.replaceChildren(
      ...list.map((r) =>
        h(
          'tr',
          rowKey ? { dataset: { key: rowKey(r) } } : null,
          columns.map((c) => h('td', { class: c.class, 'data-label': c.label }, c.render ? c.render(r) : String(c.value?.(r) ?? ''))),
        ),
      ),
    );
    clear(emptyBox);
    wrap.hidden = list.length === 0;
    if (rows.length === 0) emptyBox.append(empty ?? emptyState('Nothing here yet'));
    else if (list.length === 0) emptyBox.append(emptyState('No matches', `Nothing matches “${term}”.`));
    // a count only where there is a filter to count against
    status.textContent = filter && rows.length ? (term ? `${list.length} of ${rows.length} shown` : `${rows.length} shown`) : '';
    status.hidden = !status.textContent;
  }

  draw();
  return {
    el: root,
    setRows(next) {
      rows = next;
      draw();
    },
  };
}

// ---- formatting --------------------------------------------------------------------------------------

export function fmtTime(iso) {
  if (!iso) return '—';
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? iso : d.toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'medium' });
}

export function timeEl(iso) {
  return iso ? h('time', { datetime: iso, title: iso }, fmtTime(iso)) : '—';
}

/** 65 → "1:05", 3725 → "1:02:05" */
export function fmtDuration(seconds) {
  if (seconds === null || seconds === undefined || Number.isNaN(seconds)) return '—';
  const s = Math.max(0, Math.floor(seconds));
  const hh = Math.floor(s / 3600);
  const mm = Math.floor((s % 3600) / 60);
  const ss = String(s % 60).padStart(2, '0');
  return hh ? `${hh}:${String(mm).padStart(2, '0')}:${ss}` : `${mm}:${ss}`;
}

export function fmtBytes(n) {
  if (n === null || n === undefined) return '—';
  const units = ['B', 'KB', 'MB', 'GB', 'TB'];
  let v = Number(n);
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${i ? v.toFixed(v < 10 ? 1 : 0) : v} ${units[i]}`;
}

export function secondsBetween(a, b) {
  if (!a) return null;
  return (new Date(b ?? Date.now()).getTime() - new Date(a).getTime()) / 1000;
}

const STATUS_KIND = {
  starting: 'warn',
  running: 'live',
  stopping: 'warn',
  post_processing: 'info',
  completed: 'ok',
  failed: 'bad',
  success: 'ok',
  processing: 'info',
  active: 'live',
  ended: 'muted',
  enabled: 'ok',
  disabled: 'muted',
  paused: 'info',
};

export function badge(text, kind) {
  return h('span', { class: `badge ${kind ?? STATUS_KIND[text] ?? 'muted'}` }, String(text).replace(/_/g, ' '));
}

export function shortId(id) {
  return id ? h('code', { title: id, class: 'id' }, id.length > 12 ? `${id.slice(0, 6)}…${id.slice(-4)}` : id) : '—';
}

export function pageHeader(title, ...actions) {
  return h('div', { class: 'page-header' }, h('h1', { tabindex: '-1' }, title), actions.length ? h('div', { class: 'actions' }, actions) : null);
}

export function card(title, ...content) {
  const id = nextId('card');
  return h('section', { class: 'card', 'aria-labelledby': id }, title ? h('h2', { id }, title) : null, ...content);
}

/** Replaces an element's children (null/false children skipped, unlike Element.append). */
export function fill(el, ...children) {
  el.replaceChildren();
  return append(el, children);
}
