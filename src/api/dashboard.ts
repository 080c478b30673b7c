// The operator dashboard at /dashboard: static files from src/web/dashboard/ (plain HTML, CSS and ES
// modules, the same files whether the server runs from src/ or dist/), the hls.js player build from
// node_modules, and two small routes the browser cannot do through /v2:
//   POST /dashboard/session       access key + secret → a 1-hour management token (the secret never
//                                 lives in the browser; failures are throttled per address)
//   POST /dashboard/storage-test  writes and deletes a small object with a template's upload config and
//                                 returns the store's error as it came (needs a management token)
import { createHash, timingSafeEqual } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { Type } from 'typebox';
import fastifyStatic from '@fastify/static';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { ApiDeps, ApiInstance } from './types.js';
import { ApiError, badRequest, notFound } from './errors.js';
import { TokenBuckets, tooManyRequests } from './rateLimit.js';
import { requireManagementToken } from './auth.js';
import { signManagementToken } from '../auth/tokens.js';
import { getTemplate } from '../store/templates.js';
import { uuid } from '../clock.js';
import type { UploadConfig } from '../model/templates.js';
import { describeStoreError, storeFor, targetFromTemplate, type AssetStore, type UploadTarget } from '../storage/index.js';

/** Lifetime of a dashboard sign-in. */
export const DASHBOARD_TOKEN_SECONDS = 3600;
/** Sign-in attempts per client address: a burst of 10, then 2 a minute; a failure costs one, a success refills. */
export const SIGN_IN_RATE = { capacity: 10, refillPerMinute: 2 };

function dashboardDir(): string {
  // src/api → src/web/dashboard; dist/src/api → ../../../src/web/dashboard (the files are not compiled)
  for (const rel of ['../web/dashboard/', '../../../src/web/dashboard/']) {
    const dir = fileURLToPath(new URL(rel, import.meta.url));
    if (existsSync(`${dir}index.html`)) return dir;
  }
  throw new Error('dashboard files (src/web/dashboard) not found');
}

// Everything the dashboard loads comes from this server, except media of assets kept in the user's own
// bucket (presigned URLs on the store's host): media-src allows any https origin for those.
const CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data: blob:",
  "media-src 'self' blob: https:",
  "connect-src 'self'",
  // hls.js runs its demuxer in a worker made from a blob
  "worker-src 'self' blob:",
  "frame-ancestors 'none'",
  "base-uri 'none'",
  "form-action 'self'",
].join('; ');

/** Same-length digests, so the comparison takes the same time whatever the input's length. */
function sameSecret(given: string, expected: string): boolean {
  const a = createHash('sha256').update(given).digest();
  const b = createHash('sha256').update(expected).digest();
  return timingSafeEqual(a, b);
}

/** A vendor script from node_modules, read and gzipped once at first request. */
function vendorScript(specifier: string) {
  let cached: { raw: Buffer; gz: Buffer; etag: string } | null = null;
  return (req: FastifyRequest, reply: FastifyReply) => {
    if (!cached) {
      const file = createRequire(import.meta.url).resolve(specifier);
      const raw = readFileSync(file);
      cached = { raw, gz: gzipSync(raw, { level: 9 }), etag: `"${createHash('sha256').update(raw).digest('base64url').slice(0, 16)}"` };
    }
    reply.header('content-type', 'text/javascript; charset=utf-8').header('cache-control', 'public, max-age=86400').header('etag', cached.etag).header('vary', 'accept-encoding');
    if (req.headers['if-none-match'] === cached.etag) return reply.code(304).send();
    if (/\bgzip\b/.test(String(req.headers['accept-encoding'] ?? ''))) return reply.header('content-encoding', 'gzip').send(cached.gz);
    return reply.send(cached.raw);
  };
}

// ---- storage test -------------------------------------------------------------------------------

export type StorageTestResult =
  | { ok: true; type: string; location: string; key: string; bytes: number; write_ms: number; delete_ms: number }
  | { ok: false; type: string; location: string; key: string; stage: 'connect' | 'write' | 'delete'; error: string };

/** A store that does not answer must not hold the request (and the operator) for minutes. */
const STORAGE_TEST_TIMEOUT_MS = 20_000;

function withTimeout<T>(p: Promise<T>, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer from the store within ${STORAGE_TEST_TIMEOUT_MS / 1000} s (${what})`)), STORAGE_TEST_TIMEOUT_MS);
  });
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
}

/** Never let a secret of the upload config appear in an error shown to the browser. */
function scrub(text: string, upload: UploadConfig): string {
  const secret = upload.credentials?.secretKey;
  return secret && secret.length >= 4 ? text.split(secret).join('****') : text;
}

/**
 * Writes a small object where this template's recordings would go (same store, same prefix) and deletes it.
 * The store's own error comes back as it was (describeStoreError never includes credentials).
 */
export async function testUpload(upload: UploadConfig, customerId: string, scratchDir: string, allowPrivateEndpoint = false): Promise<StorageTestResult> {
  const base = { type: upload.type, location: upload.location, key: '' };
  let target: UploadTarget;
  let store: AssetStore;
  try {
    target = targetFromTemplate(upload, customerId);
    base.key = `${target.prefix}/roomcast-storage-test/${uuid()}.txt`;
    store = storeFor(target, { allowPrivateEndpoint });
  } catch (err) {
    return { ok: false, ...base, stage: 'connect', error: scrub(describeStoreError(err), upload) };
  }
  const dir = mkdtempSync(join(scratchDir, 'storage-test-'));
  const file = join(dir, 'probe.txt');
  const body = Buffer.from(`roomcast storage test ${new Date().toISOString()}\n`);
  writeFileSync(file, body);
  try {
    const t0 = performance.now();
    try {
      await withTimeout(store.upload(base.key, file, { signal: AbortSignal.timeout(STORAGE_TEST_TIMEOUT_MS) }), 'write');
    } catch (err) {
      return { ok: false, ...base, stage: 'write', error: scrub(describeStoreError(err), upload) };
    }
    const t1 = performance.now();
    try {
      await withTimeout(store.delete(base.key), 'delete');
    } catch (err) {
      return { ok: false, ...base, stage: 'delete', error: scrub(describeStoreError(err), upload) };
    }
    const t2 = performance.now();
    return { ok: true, ...base, bytes: body.length, write_ms: Math.round(t1 - t0), delete_ms: Math.round(t2 - t1) };
  } finally {
    store.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

// ---- routes ---------------------------------------------------------------------------------------

const SessionBody = Type.Object(
  {
    access_key: Type.String({ minLength: 1, maxLength: 256 }),
    app_secret: Type.String({ minLength: 1, maxLength: 1024 }),
  },
  { additionalProperties: false },
);
const StorageTestBody = Type.Object({ template_id: Type.String({ pattern: '^[a-zA-Z0-9_-]{1,64}$' }) }, { additionalProperties: false });

export async function dashboardRoutes(app: ApiInstance, deps: ApiDeps): Promise<void> {
  const dir = dashboardDir();
  const keys = { accessKey: deps.config.accessKey, appSecret: deps.config.appSecret };
  const throttle = new TokenBuckets(SIGN_IN_RATE);

  app.addHook('onSend', async (_req, reply, payload) => {
    reply.header('content-security-policy', CSP).header('x-content-type-options', 'nosniff').header('referrer-policy', 'no-referrer');
    return payload;
  });

  // index.html is the only page; scripts and styles revalidate by ETag so an upgrade shows at once.
  await app.register(fastifyStatic, {
    root: dir,
    prefix: '/dashboard/',
    decorateReply: false,
    index: ['index.html'],
    cacheControl: false,
    setHeaders: (reply) => reply.header('cache-control', 'no-cache'),
  });
  app.get('/dashboard', { schema: { hide: true } }, async (_req, reply) => reply.redirect('/dashboard/', 302));

  app.get('/dashboard/vendor/hls.min.js', { schema: { hide: true } }, vendorScript('hls.js/dist/hls.min.js'));
  // the light build (no subtitles, alternate audio or DRM) is what the dashboard loads: a third smaller
  app.get('/dashboard/vendor/hls.light.min.js', { schema: { hide: true } }, vendorScript('hls.js/dist/hls.light.min.js'));

  app.post(
    '/dashboard/session',
    { schema: { hide: true, body: SessionBody } },
    async (req, reply) => {
      const addr = req.ip;
      const wait = throttle.retryAfter(addr);
      if (wait > 0) throw tooManyRequests(reply, wait, 'Too many failed sign-ins');
      // both comparisons always run: the time taken says nothing about which part was wrong
      const keyOk = sameSecret(req.body.access_key, keys.accessKey);
      const secretOk = sameSecret(req.body.app_secret, keys.appSecret);
      if (!(keyOk && secretOk)) {
        throttle.take(addr);
        req.log.info({ addr }, 'dashboard sign-in refused');
        throw new ApiError(401, 'Invalid credentials', ['access key or app secret is wrong']);
      }
      throttle.reset(addr);
      const token = await signManagementToken(keys, DASHBOARD_TOKEN_SECONDS);
      reply.header('cache-control', 'no-store');
      return { token, expires_in: DASHBOARD_TOKEN_SECONDS, expires_at: new Date(Date.now() + DASHBOARD_TOKEN_SECONDS * 1000).toISOString() };
    },
  );

  await app.register(async (plain) => {
    const authed = plain as ApiInstance;
    authed.addHook('onRequest', requireManagementToken(keys));
    authed.post('/dashboard/storage-test', { schema: { hide: true, body: StorageTestBody } }, async (req) => {
      const t = await getTemplate(deps.db, req.body.template_id);
      if (!t) throw notFound('template', req.body.template_id);
      const upload = t.settings.recording?.upload;
      if (!upload) {
        throw badRequest('No storage configured', `template ${t.name} keeps assets on this server's disk: settings.recording.upload is not set`);
      }
      const result = await testUpload(upload, deps.customerId, tmpdir(), deps.config.storageAllowPrivate);
      req.log.info({ template: t.id, type: upload.type, ok: result.ok, stage: result.ok ? undefined : result.stage }, 'storage test');
      return result;
    });
  });
}
