// Starts roomcast: settings → store (migrations) → default template → HTTP server.
import type { FastifyInstance } from 'fastify';
import { loadConfig, workspaceIds, type Config } from './config.js';
import { openStore } from './store/db.js';
import { createLogger } from './logger.js';
import { EventLog } from './domain/events.js';
import { DbJobQueue } from './jobs/queue.js';
import { ensureDefaultTemplate } from './store/templates.js';
import { buildApp } from './app.js';
import { LocalStorage } from './storage/local.js';
import type { AppContext } from './context.js';

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
  await ensureDefaultTemplate(store.db, customerId);
  const localStorage = new LocalStorage(config.dataDir, config.appSecret, () => config.publicUrl);
  return { config, store, log, events: new EventLog(store.db), queue: new DbJobQueue(store.db), localStorage, customerId, appId };
}

export async function startServer(config: Config = loadConfig()): Promise<RunningServer> {
  const ctx = await createContext(config);
  const app = await buildApp(ctx);
  await app.listen({ port: config.port, host: config.host });
  const addr = app.server.address();
  const port = typeof addr === 'object' && addr ? addr.port : config.port;
  // PORT=0 (tests) picks a free port: the public URL follows it.
  if (config.port === 0) config.publicUrl = `http://127.0.0.1:${port}`;
  return {
    ctx,
    app,
    url: `http://127.0.0.1:${port}`,
    async close() {
      await app.close();
      await ctx.store.close();
    },
  };
}
