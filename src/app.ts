// Builds the HTTP server: schema validation, OpenAPI, auth, and one route file per resource.
import Fastify, { type FastifyInstance, type FastifyReply } from 'fastify';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { loggerOptions } from './logger.js';
import { installErrorHandlers } from './api/errors.js';
import { clientErrorHandler, installInputHooks, installJsonParser } from './api/input.js';
import { requireManagementToken } from './api/auth.js';
import type { ApiDeps, ApiInstance } from './api/types.js';
import { roomRoutes } from './api/rooms.js';
import { templateRoutes } from './api/templates.js';
import { recordingRoutes } from './api/recordings.js';
import { recordingAssetRoutes, localAssetDownloadRoute } from './api/recordingAssets.js';
import fastifyStatic from '@fastify/static';
import { roomCodeRoutes } from './api/roomCodes.js';
import { sessionRoutes } from './api/sessions.js';
import { activeRoomRoutes } from './api/activeRooms.js';
import { tokenRoutes } from './api/token.js';
import { meetingRoutes } from './api/meeting.js';
import { webhookRoutes } from './api/webhooks.js';
import { dashboardRoutes } from './api/dashboard.js';
import { metricsRoutes } from './api/metrics.js';
import { liveStreamRoutes } from './api/liveStreams.js';
import { hlsRoutes } from './api/hls.js';
import { checkDatabase } from './store/db.js';
import { AUDIO_KBPS, MP4_VIDEO_MAX_KBPS } from './domain/recordingJob.js';

/** Resource route files under /v2, all behind the management token. */
const managementRoutes: Array<(app: ApiInstance, deps: ApiDeps) => void> = [roomRoutes, templateRoutes, recordingRoutes, recordingAssetRoutes, roomCodeRoutes, sessionRoutes, activeRoomRoutes, liveStreamRoutes, webhookRoutes];

/** TRUST_PROXY=<n>: the n nearest hops are proxies (Fastify's typings omit the number form). */
const hopsTrusted = (n: number) => (_addr: string, hop: number) => hop < n;

/** GET /healthz: the database answers; degraded (still serving) while a default recording could not start for space on the data disk. */
const health = (deps: ApiDeps) => async () => {
  await checkDatabase(deps.db);
  return deps.disk.health(MP4_VIDEO_MAX_KBPS + AUDIO_KBPS);
};

/** Fastify with the API's logging, body and error rules (no routes). */
function baseApp(deps: ApiDeps) {
  const app = Fastify({
    logger: { ...loggerOptions(deps.config.logLevel) },
    ajv: { customOptions: { removeAdditional: false, allErrors: true, coerceTypes: 'array', useDefaults: true } },
    bodyLimit: 1024 * 1024,
    // req.ip follows X-Forwarded-For only from trusted proxies (TRUST_PROXY); rate limits key on it
    trustProxy: typeof deps.config.trustProxy === 'number' ? hopsTrusted(deps.config.trustProxy) : deps.config.trustProxy,
    // router-level refusals (a path parameter over maxParamLength, a malformed URL) get the API's error body too;
    // the message never echoes the URL (it may be a signed asset URL)
    frameworkErrors: (err, _req, reply) => {
      const status = (err as { statusCode?: number }).statusCode ?? 400;
      const code = (err as { code?: string }).code ?? 'invalid request';
      const detail = code === 'FST_ERR_BAD_URL' ? 'url: malformed percent-encoding' : code;
      void (reply as FastifyReply).status(status).send({ code: status, message: 'Invalid request URL', details: [detail] });
    },
    clientErrorHandler,
  }).withTypeProvider<TypeBoxTypeProvider>();
  installErrorHandlers(app);
  installJsonParser(app);
  installInputHooks(app);
  return app;
}

/** A recorder machine's own HTTP port (METRICS_PORT): Prometheus /metrics (management token) and /healthz, nothing else. */
export async function buildMetricsApp(deps: ApiDeps): Promise<FastifyInstance> {
  const app = baseApp(deps);
  app.get('/healthz', { schema: { hide: true } }, health(deps));
  await app.register(async (m) => metricsRoutes(m as ApiInstance, deps));
  return app;
}

export async function buildApp(deps: ApiDeps): Promise<FastifyInstance> {
  const app = baseApp(deps);

  await app.register(swagger, {
    openapi: {
      openapi: '3.0.3',
      info: { title: 'roomcast API', version: '2.0.0', description: 'Rooms, recordings and live streams; 100ms v2 compatible.' },
      servers: [{ url: deps.config.publicUrl }],
      components: { securitySchemes: { managementToken: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' } } },
      security: [{ managementToken: [] }],
    },
  });
  await app.register(swaggerUi, { routePrefix: '/docs' });

  // reply.sendFile for local assets (Range, ETag); other static roots register with decorateReply: false
  await app.register(fastifyStatic, { root: deps.localStorage.root, serve: false });
  localAssetDownloadRoute(app, deps);
  // live HLS output: public, the playback URL's random key is the authorisation
  hlsRoutes(app, deps);

  app.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger());
  app.get('/healthz', { schema: { hide: true } }, health(deps));

  // Public routes: the room-code exchange (the code is the credential) and the meeting page.
  await app.register(async (pub) => {
    tokenRoutes(pub as ApiInstance, deps);
    await meetingRoutes(pub, deps);
  });

  // Prometheus (/metrics), behind a management token
  await app.register(async (m) => metricsRoutes(m as ApiInstance, deps));

  // The operator dashboard (/dashboard): static pages, sign-in, storage test.
  await app.register(async (d) => dashboardRoutes(d as ApiInstance, deps));

  await app.register(
    async (v2) => {
      v2.addHook('onRequest', requireManagementToken({ accessKey: deps.config.accessKey, appSecret: deps.config.appSecret }));
      for (const routes of managementRoutes) routes(v2 as ApiInstance, deps);
    },
    { prefix: '/v2' },
  );

  return app;
}
