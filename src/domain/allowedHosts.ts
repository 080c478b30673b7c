// Which URLs a recorder may open: RECORDER_ALLOWED_HOSTS entries are "host:port", a bare "host" (the URL
// scheme's default port only: 80 for http/ws, 443 for https/wss) or a URL whose host and port are taken.
// Used for a custom meeting_url at the API and for every request of the recorder's browser.

export interface HostRule {
  hostname: string;
  /** null: the default port of the URL's scheme */
  port: string | null;
}

const DEFAULT_PORTS: Record<string, string> = { 'http:': '80', 'ws:': '80', 'https:': '443', 'wss:': '443' };
const SCHEME = /^[a-z][a-z0-9+.-]*:\/\//i;

/** "host", "host:port", or a URL ("https://meet.example.com" → meet.example.com:443). */
export function parseHostRule(entry: string): HostRule {
  const raw = entry.trim();
  const hasScheme = SCHEME.test(raw);
  let u: URL;
  try {
    u = new URL(hasScheme ? raw : `http://${raw}`);
  } catch {
    throw new Error(`allowed host ${JSON.stringify(entry)} is not a host name`);
  }
  if (!u.hostname || (!hasScheme && /[/?#@]/.test(raw))) throw new Error(`allowed host ${JSON.stringify(entry)} is not a host name`);
  const explicitPort = /:\d+(\/.*)?$/.test(raw.replace(SCHEME, ''));
  // the URL parser drops a port equal to the scheme's default: put it back
  const port = explicitPort ? u.port || DEFAULT_PORTS[u.protocol] || '80' : hasScheme ? DEFAULT_PORTS[u.protocol] ?? null : null;
  return { hostname: u.hostname.toLowerCase(), port };
}

/** A predicate telling whether the recorder may load a URL. Page-internal schemes (data:, blob:, about:) pass. */
export function allowedUrlMatcher(allowed: string[]): (url: string | URL) => boolean {
  const rules = allowed.map(parseHostRule);
  return (url) => {
    let u: URL;
    try {
      u = typeof url === 'string' ? new URL(url) : url;
    } catch {
      return false;
    }
    if (u.protocol === 'data:' || u.protocol === 'blob:' || u.protocol === 'about:') return true;
    const defaultPort = DEFAULT_PORTS[u.protocol];
    if (!defaultPort) return false;
    const hostname = u.hostname.toLowerCase();
    const port = u.port || defaultPort;
    return rules.some((r) => r.hostname === hostname && port === (r.port ?? defaultPort));
  };
}

export function isAllowedUrl(url: string | URL, allowed: string[]): boolean {
  return allowedUrlMatcher(allowed)(url);
}

/** "host:port" of a URL, the port always written out. */
export function hostPortOf(url: string): string {
  const u = new URL(url);
  return `${u.hostname}:${u.port || DEFAULT_PORTS[u.protocol] || '80'}`;
}
