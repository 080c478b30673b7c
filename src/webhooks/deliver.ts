// One webhook POST: resolve the target's addresses, refuse loopback/private/link-local ones unless allowed,
// connect to the very address that was checked (no second DNS answer can slip in), sign, send, read the status.
import { createHmac } from 'node:crypto';
import http from 'node:http';
import https from 'node:https';
import type { LookupFunction } from 'node:net';
import { RefusedTarget, resolvePublic } from '../net/addressGuard.js';

export { isPrivateAddress, RefusedTarget } from '../net/addressGuard.js';

export const SIGNATURE_HEADER = 'x-roomcast-signature';
const TIMEOUT_MS = 10_000;
const MAX_RESPONSE_BYTES = 64 * 1024;

export interface PostResult {
  ok: boolean;
  status: number | null;
  /** why it failed, for the delivery log; null on success */
  error: string | null;
  /** false when sending again cannot help (the target is refused) */
  retryable: boolean;
}

/** The addresses to connect to; refuses loopback/private/link-local ones unless WEBHOOK_ALLOW_PRIVATE. */
export function resolveAllowed(url: URL, allowPrivate: boolean): Promise<{ address: string; family: 4 | 6 }[]> {
  return resolvePublic(url, allowPrivate, 'WEBHOOK_ALLOW_PRIVATE');
}

/** `X-Roomcast-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>">` */
export function signBody(secret: string, body: string, unixSeconds: number): string {
  const mac = createHmac('sha256', secret).update(`${unixSeconds}.${body}`).digest('hex');
  return `t=${unixSeconds},v1=${mac}`;
}

export interface PostOptions {
  headers: Record<string, string>;
  secret: string | null;
  allowPrivate: boolean;
  timeoutMs?: number;
}

/** POSTs a JSON body; success is any 2xx. Never throws. */
export async function postJson(target: string, body: string, opts: PostOptions): Promise<PostResult> {
  let url: URL;
  try {
    url = new URL(target);
  } catch {
    return { ok: false, status: null, error: `invalid URL ${target}`, retryable: false };
  }
  let pinned: { address: string; family: 4 | 6 }[];
  try {
    pinned = await resolveAllowed(url, opts.allowPrivate);
  } catch (err) {
    const refused = err instanceof RefusedTarget;
    return { ok: false, status: null, error: `${refused ? 'refused: ' : 'DNS: '}${(err as Error).message}`, retryable: !refused };
  }
  // custom headers first; ours win over a custom header of the same name
  const headers: Record<string, string> = {};
  for (const [k, v] of Object.entries(opts.headers)) headers[k.toLowerCase()] = v;
  headers['content-type'] = 'application/json';
  headers['content-length'] = String(Buffer.byteLength(body));
  headers['user-agent'] = 'roomcast-webhooks/2.0';
  if (opts.secret) headers[SIGNATURE_HEADER] = signBody(opts.secret, body, Math.floor(Date.now() / 1000));
  // the socket connects to the addresses checked above, never to a second DNS answer
  const lookup: LookupFunction = (_host, options, cb) => {
    if ((options as { all?: boolean }).all) (cb as unknown as (e: null, a: { address: string; family: number }[]) => void)(null, pinned);
    else cb(null, pinned[0].address, pinned[0].family);
  };
  const timeoutMs = opts.timeoutMs ?? TIMEOUT_MS;
  return new Promise<PostResult>((resolve) => {
    const mod = url.protocol === 'https:' ? https : http;
    let req: http.ClientRequest;
    try {
      req = mod.request(url, { method: 'POST', headers, lookup, agent: false, timeout: timeoutMs }, (res) => {
        let seen = 0;
        res.on('data', (chunk: Buffer) => {
          seen += chunk.length;
          if (seen > MAX_RESPONSE_BYTES) res.destroy();
        });
        const done = () => {
          const status = res.statusCode ?? 0;
          const ok = status >= 200 && status < 300;
          resolve({ ok, status, error: ok ? null : `HTTP ${status}`, retryable: true });
        };
        res.on('end', done);
        res.on('close', done);
        res.on('error', done);
      });
    } catch (err) {
      // a custom header Node will not send (bad name or value): no retry can fix it
      resolve({ ok: false, status: null, error: `refused: ${(err as Error).message}`, retryable: false });
      return;
    }
    req.on('timeout', () => req.destroy(new Error(`no answer within ${timeoutMs / 1000} s`)));
    req.on('error', (err: Error) => resolve({ ok: false, status: null, error: err.message, retryable: true }));
    req.end(body);
  });
}
