// Starts roomcast: settings → store (migrations) → default template → HTTP server.
import type { FastifyInstance } from 'fastify';
import { loadConfig, workspaceIds, type Config } from './config.js';
import { openStore } from './store/db.js';
import { createLogger } from './logger.js';
import { EventLog } from './domain/events.js';
import { DbJobQueue } from './jobs/queue.js';
import { ensureDefaultTemplate } from './store/templates.js';
import { defaultTemplateBody } from './domain/templateDefaults.js';
import { buildApp } from './app.js';
import { LocalStorage } from './storage/local.js';
import type { AppContext } from './context.js';
import { Sfu } from './sfu/index.js';
import { UploadManager } from './storage/uploads.js';
import { RetentionSweeper } from './storage/retention.js';
import { WebhookOutbox } from './webhooks/outbox.js';
import { JobSupervisor } from './domain/jobSupervisor.js';
import { UploadEvents } from './domain/uploadEvents.js';
import { EgressWorker } from './recorder/worker.js';

export interface RunningServer {
  ctx: AppContext;
  app: FastifyInstance;
  url: string;
  close(): Promise<void>;
}

export async function createContext(config: Config): Promise<AppContext> {
  const log = createLogger(config.logLevel);
  const store = await openStore(config.databaseUrl, config.dataDir);
  const { customerId, appId } = workspaceIds(config);
  await ensureDefaultTemplate(store.db, customerId, defaultTemplateBody());
  const localStorage = new LocalStorage(config.dataDir, config.appSecret, () => config.publicUrl);
  const base: Omit<AppContext, 'sfu' | 'uploads' | 'webhooks'> = { config, store, log, events: new EventLog(store.db), queue: new DbJobQueue(store.db), localStorage, customerId, appId };
  // the SFU reads the rest of the context
  const ctx = base as AppContext;
  ctx.sfu = new Sfu(ctx);
  // the upload manager reports how uploads end; the jobs' events (beam.*, hls.*) are the domain's to send
  ctx.uploads = new UploadManager(ctx, new UploadEvents(ctx));
  ctx.webhooks = new WebhookOutbox(ctx);
  return ctx;
}

export async function startServer(config: Config = loadConfig()): Promise<RunningServer> {
  const ctx = await createContext(config);
  const app = await buildApp(ctx);
  await ctx.sfu.start(app.server);
  await app.listen({ port: config.port, host: config.host });
  const addr = app.server.address();
  const port = typeof addr === 'object' && addr ? addr.port : config.port;
  // PORT=0 (tests) picks a free port: the public URL follows it.
  if (config.port === 0) config.publicUrl = `http://127.0.0.1:${port}`;
  // background work whose state is in the database: webhook deliveries, uploads, the local retention sweep
  ctx.webhooks.start();
  await ctx.uploads.start();
  const retention = new RetentionSweeper(ctx);
  retention.start();
  // recordings and live streams: automatic start/stop rules, and this machine's recorder workers sharing
  // one limit (RECORDER_WORKERS; 0 = this server takes no recorder work)
  const supervisor = new JobSupervisor(ctx);
  supervisor.start();
  const recorder = new EgressWorker(ctx);
  recorder.start();
  return {
    ctx,
    app,
    url: `http://127.0.0.1:${port}`,
    async close() {
      // recorder jobs end first (their files become assets), then peers leave (events, session close),
      // then the HTTP server stops
      supervisor.stop();
      await recorder.stop();
      await ctx.sfu.close();
      await app.close();
      await retention.stop();
      await ctx.uploads.stop();
      await ctx.webhooks.stop();
      await ctx.store.close();
    },
  };
}
