// The management API from the browser: the token in sessionStorage (gone when the tab closes), JSON in
// and out, the API's {code, message, details} as ApiError, and any 401 sends the user back to sign-in.

const TOKEN_KEY = 'roomcast.dashboard.token';

export class ApiError extends Error {
  constructor(status, body, fallback) {
    const msg = body && typeof body === 'object' && body.message ? body.message : fallback || `HTTP ${status}`;
    super(msg);
    this.status = status;
    this.code = body?.code ?? status;
    this.details = Array.isArray(body?.details) ? body.details.map(String) : [];
  }
}

/** A /v2 route this server does not have (yet): the not-found handler says "… is not a route". */
export function isMissingRoute(err) {
  return err instanceof ApiError && (err.status === 404 || err.status === 405) && err.details.some((d) => d.endsWith('is not a route'));
}

function decodePayload(token) {
  try {
    const part = token.split('.')[1].replace(/-/g, '+').replace(/_/g, '/');
    return JSON.parse(atob(part.padEnd(part.length + ((4 - (part.length % 4)) % 4), '=')));
  } catch {
    return null;
  }
}

let onSignedOut = () => {};

export const auth = {
  get token() {
    return sessionStorage.getItem(TOKEN_KEY);
  },
  /** Seconds since epoch when the token expires, or null. */
  get expiresAt() {
    const t = this.token;
    const p = t ? decodePayload(t) : null;
    return typeof p?.exp === 'number' ? p.exp : null;
  },
  get valid() {
    const t = this.token;
    if (!t) return false;
    const exp = this.expiresAt;
    return exp === null || exp * 1000 > Date.now();
  },
  set(token) {
    sessionStorage.setItem(TOKEN_KEY, token);
  },
  clear() {
    sessionStorage.removeItem(TOKEN_KEY);
  },
  onSignedOut(fn) {
    onSignedOut = fn;
  },
  /** The claims of a pasted token, for a first check before the server sees it. */
  inspect: decodePayload,
};

async function parse(res) {
  const text = await res.text();
  if (!text) return null;
  try {
    return JSON.parse(text);
  } catch {
    return { message: text.slice(0, 200) };
  }
}

/** api('POST', '/v2/rooms', {name}) → parsed JSON; throws ApiError. */
export async function api(method, path, body, { signal, token } = {}) {
  const headers = { accept: 'application/json' };
  const tok = token ?? auth.token;
  if (tok) headers.authorization = `Bearer ${tok}`;
  if (body !== undefined) headers['content-type'] = 'application/json';
  let res;
  try {
    res = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body), signal, cache: 'no-store' });
  } catch (err) {
    if (err.name === 'AbortError') throw err;
    throw new ApiError(0, { message: 'The server cannot be reached', details: [String(err.message ?? err)] });
  }
  const data = await parse(res);
  if (res.status === 401 && token === undefined && path.startsWith('/v2/')) {
    auth.clear();
    onSignedOut('Your session has ended. Sign in again.');
  }
  if (!res.ok) throw new ApiError(res.status, data);
  return data;
}

export const get = (path, opts) => api('GET', path, undefined, opts);
export const post = (path, body, opts) => api('POST', path, body, opts);
export const del = (path, opts) => api('DELETE', path, undefined, opts);

/** Query string from an object, skipping empty values; arrays repeat the key. */
export function qs(params) {
  const sp = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) {
    if (v === undefined || v === null || v === '') continue;
    if (Array.isArray(v)) v.forEach((x) => sp.append(k, x));
    else sp.set(k, String(v));
  }
  const s = sp.toString();
  return s ? `?${s}` : '';
}

/** Every page of a list envelope ({data, last}), up to `max` items. */
export async function listAll(path, params = {}, { max = 500, signal } = {}) {
  const out = [];
  let start;
  for (;;) {
    const page = await get(path + qs({ ...params, limit: 100, start }), { signal });
    out.push(...(page.data ?? []));
    if (!page.last || (page.data ?? []).length < 100 || out.length >= max) return out;
    start = page.last;
  }
}
