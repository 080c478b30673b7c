// Entry: sign-in, the hash router and the page modules (loaded on first visit).
import { api, auth, ApiError } from './api.js';
import { clear, errorBanner, fill, h, loading } from './dom.js';

const $ = (id) => document.getElementById(id);

// ---- routes ----------------------------------------------------------------------------------------

const routes = [
  { re: /^\/rooms$/, nav: 'rooms', load: () => import('./pages/rooms.js'), page: 'list' },
  { re: /^\/rooms\/([\w-]+)$/, nav: 'rooms', load: () => import('./pages/room.js'), page: 'view' },
  { re: /^\/templates$/, nav: 'templates', load: () => import('./pages/templates.js'), page: 'list' },
  { re: /^\/templates\/([\w-]+)(?:\/([\w-]+))?$/, nav: 'templates', load: () => import('./pages/template.js'), page: 'view' },
  { re: /^\/sessions$/, nav: 'sessions', load: () => import('./pages/sessions.js'), page: 'list' },
  { re: /^\/sessions\/([\w-]+)$/, nav: 'sessions', load: () => import('./pages/sessions.js'), page: 'view' },
  { re: /^\/webhooks$/, nav: 'webhooks', load: () => import('./pages/webhooks.js'), page: 'view' },
];

function parseHash() {
  const raw = location.hash.replace(/^#/, '') || '/rooms';
  const [path, query = ''] = raw.split('?');
  return { path, query: new URLSearchParams(query) };
}

let cleanup = null;
let navSeq = 0;

async function navigate() {
  if (!auth.valid) return showSignIn();
  const { path, query } = parseHash();
  const route = routes.find((r) => r.re.test(path));
  const view = $('view');
  if (cleanup) {
    try {
      cleanup();
    } catch {
      /* a page's teardown must not block the next page */
    }
    cleanup = null;
  }
  const seq = ++navSeq;
  $('toast').classList.remove('show');
  for (const a of document.querySelectorAll('[data-nav]')) {
    if (route && a.dataset.nav === route.nav) a.setAttribute('aria-current', 'page');
    else a.removeAttribute('aria-current');
  }
  if (!route) {
    fill(view, errorBanner(new ApiError(404, { message: 'Page not found', details: [`#${path} is not a dashboard page`] })));
    return;
  }
  fill(view, loading());
  const controller = new AbortController();
  try {
    const mod = await route.load();
    if (seq !== navSeq) return;
    const params = path.match(route.re).slice(1);
    clear(view);
    const teardown = await mod[route.page](view, { params, query, signal: controller.signal });
    if (seq !== navSeq) {
      teardown?.();
      return;
    }
    cleanup = () => {
      controller.abort();
      teardown?.();
    };
    // move focus to the page heading, so keyboard and screen-reader users land on the new page
    view.querySelector('h1')?.focus({ preventScroll: true });
  } catch (err) {
    if (err?.name === 'AbortError' || seq !== navSeq) return;
    fill(view, errorBanner(err));
  }
}

// ---- sign-in -----------------------------------------------------------------------------------------

let expiryTimer = 0;

function showSignIn(message) {
  clearTimeout(expiryTimer);
  if (cleanup) {
    cleanup();
    cleanup = null;
  }
  clear($('view'));
  $('app').hidden = true;
  $('signin').hidden = false;
  document.title = 'Sign in · roomcast dashboard';
  const errBox = $('signin-error');
  errBox.hidden = !message;
  errBox.textContent = message ?? '';
  (auth.token ? $('signin-submit') : $('access-key')).focus();
}

function showApp() {
  $('signin').hidden = true;
  $('app').hidden = false;
  const exp = auth.expiresAt;
  if (exp) {
    const until = new Date(exp * 1000);
    $('session-info').textContent = `Session until ${until.toLocaleTimeString(undefined, { hour: '2-digit', minute: '2-digit' })}`;
    clearTimeout(expiryTimer);
    // setTimeout holds at most ~24.8 days
    expiryTimer = setTimeout(() => signOut('Your session has expired. Sign in again.'), Math.min(exp * 1000 - Date.now(), 2 ** 31 - 1));
  } else $('session-info').textContent = '';
  navigate();
}

function signOut(message) {
  auth.clear();
  showSignIn(message);
}

auth.onSignedOut((message) => showSignIn(message));

function mode() {
  return document.querySelector('input[name="mode"]:checked').value;
}

for (const r of document.querySelectorAll('input[name="mode"]')) {
  r.addEventListener('change', () => {
    $('signin-keys').hidden = mode() !== 'keys';
    $('signin-token').hidden = mode() !== 'token';
    (mode() === 'keys' ? $('access-key') : $('mgmt-token')).focus();
  });
}

function signInError(message, details = []) {
  const box = $('signin-error');
  box.hidden = false;
  box.replaceChildren(h('strong', null, message), details.length ? h('ul', { class: 'details' }, details.map((d) => h('li', null, d))) : '');
}

$('signin-form').addEventListener('submit', async (e) => {
  e.preventDefault();
  const btn = $('signin-submit');
  $('signin-error').hidden = true;
  btn.disabled = true;
  try {
    let token;
    if (mode() === 'keys') {
      const access_key = $('access-key').value.trim();
      const app_secret = $('app-secret').value;
      if (!access_key || !app_secret) return signInError('Enter the access key and the app secret.');
      const res = await api('POST', '/dashboard/session', { access_key, app_secret }, { token: '' });
      token = res.token;
    } else {
      token = $('mgmt-token').value.trim().replace(/^Bearer\s+/i, '');
      const claims = auth.inspect(token);
      if (!claims) return signInError('That is not a token (expected a JWT: three dot-separated parts).');
      if (claims.type !== 'management') return signInError('That is not a management token.', [`its type is "${claims.type ?? 'unknown'}"`]);
      // the server decides: any /v2 read tells whether it accepts the token
      await api('GET', '/v2/templates?limit=10', undefined, { token });
    }
    auth.set(token);
    $('app-secret').value = '';
    $('mgmt-token').value = '';
    showApp();
  } catch (err) {
    if (err instanceof ApiError) signInError(err.status === 401 ? 'Sign-in refused: the credentials are not valid.' : err.message, err.details);
    else signInError(String(err?.message ?? err));
  } finally {
    btn.disabled = false;
  }
});

$('signout').addEventListener('click', () => signOut());

window.addEventListener('hashchange', () => {
  if (auth.valid) navigate();
});

if (auth.valid) showApp();
else {
  auth.clear();
  showSignIn();
}
