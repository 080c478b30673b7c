// One webhook POST: resolve the target's addresses, refuse loopback/private/link-local ones unless allowed,
// connect to the very address that was checked (no second DNS answer can slip in), sign, send, read the status.
import { createHmac } from 'node:crypto';
import { lookup as dnsLookup } from 'node:dns/promises';
import http from 'node:http';
import https from 'node:https';
import { BlockList, isIP, type LookupFunction } from 'node:net';

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

// Ranges no webhook may reach unless WEBHOOK_ALLOW_PRIVATE: this machine, private networks, link-local
// (cloud metadata at 169.254.169.254), carrier NAT, benchmarking, documentation, multicast, reserved.
const blocked = new BlockList();
for (const [net, bits] of [
  ['0.0.0.0', 8], ['10.0.0.0', 8], ['100.64.0.0', 10], ['127.0.0.0', 8], ['169.254.0.0', 16], ['172.16.0.0', 12],
  ['192.0.0.0', 24], ['192.0.2.0', 24], ['192.168.0.0', 16], ['198.18.0.0', 15], ['198.51.100.0', 24],
  ['203.0.113.0', 24], ['224.0.0.0', 4], ['240.0.0.0', 4],
] as const) blocked.addSubnet(net, bits, 'ipv4');
for (const [net, bits] of [
  ['::', 128], ['::1', 128], ['100::', 64], ['2001:db8::', 32], ['fc00::', 7], ['fe80::', 10], ['fec0::', 10], ['ff00::', 8],
] as const) blocked.addSubnet(net, bits, 'ipv6');

/** The 8 groups of an IPv6 address (with an embedded dotted IPv4 tail converted). */
function ipv6Groups(ip: string): number[] {
  let s = ip.toLowerCase().replace(/%.*$/, '');
  const v4 = /(\d+\.\d+\.\d+\.\d+)$/.exec(s);
  if (v4) {
    const b = v4[1].split('.').map(Number);
    s = s.slice(0, -v4[1].length) + ((b[0] << 8) | b[1]).toString(16) + ':' + ((b[2] << 8) | b[3]).toString(16);
  }
  const [head, tail] = s.includes('::') ? s.split('::') : [s, undefined];
  const h = head ? head.split(':') : [];
  const t = tail !== undefined && tail !== '' ? tail.split(':') : [];
  const fill = tail === undefined ? [] : Array(8 - h.length - t.length).fill('0');
  return [...h, ...fill, ...t].map((g) => parseInt(g, 16));
}

/** IPv4 carried inside an IPv6 address (mapped ::ffff:a.b.c.d, NAT64 64:ff9b::/96, 6to4 2002::/16), or null. */
function embeddedIpv4(ip: string): string | null {
  const g = ipv6Groups(ip);
  const quad = (hi: number, lo: number) => `${hi >> 8}.${hi & 255}.${lo >> 8}.${lo & 255}`;
  if (g.slice(0, 5).every((x) => x === 0) && g[5] === 0xffff) return quad(g[6], g[7]);
  if (g[0] === 0x64 && g[1] === 0xff9b && g.slice(2, 6).every((x) => x === 0)) return quad(g[6], g[7]);
  if (g[0] === 0x2002) return quad(g[1], g[2]);
  return null;
}

/** True for addresses a webhook must not reach by default. */
export function isPrivateAddress(ip: string): boolean {
  const family = isIP(ip);
  if (family === 4) return blocked.check(ip, 'ipv4');
  if (family === 6) {
    const v4 = embeddedIpv4(ip);
    if (v4 !== null && blocked.check(v4, 'ipv4')) return true;
    return blocked.check(ip, 'ipv6');
  }
  return true; // not an address at all: refuse
}

export class RefusedTarget extends Error {}

/** The addresses to connect to: every address the name resolves to must be allowed (the connection uses only these). */
export async function resolveAllowed(url: URL, allowPrivate: boolean): Promise<{ address: string; family: 4 | 6 }[]> {
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new RefusedTarget(`scheme ${url.protocol} is not http(s)`);
  const host = url.hostname.replace(/^\[|\]$/g, '');
  const literal = isIP(host);
  const addrs = literal ? [{ address: host, family: literal }] : await dnsLookup(host, { all: true, verbatim: true });
  if (addrs.length === 0) throw new Error(`${host} has no address`);
  if (!allowPrivate) {
    const bad = addrs.find((a) => isPrivateAddress(a.address));
    if (bad) {
      throw new RefusedTarget(`${host} resolves to ${bad.address}, a loopback/private/link-local address (set WEBHOOK_ALLOW_PRIVATE=true to allow)`);
    }
  }
  return addrs.map((a) => ({ address: a.address, family: a.family === 6 ? (6 as const) : (4 as const) }));
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
