// The composition root: builds every part of roomcast with the dependencies it names (settings → store →
// services → HTTP server), starts them in order and stops them in reverse. No other module builds a service.
import type { FastifyInstance } from 'fastify';
import { loadConfig, workspaceIds, type Config } from './config.js';
import { openStore, type Db, type Store } from './store/db.js';
import { createLogger, type Logger } from './logger.js';
import { EventLog } from './domain/events.js';
import { DbJobQueue, type JobQueue } from './jobs/queue.js';
import { BullJobQueue, redisConnection } from './jobs/bullQueue.js';
import type { MachineReport } from './jobs/queue.js';
import { storeCounts, type StoreCounts } from './store/metrics.js';
import { ensureDefaultTemplate } from './store/templates.js';
import { defaultTemplateBody } from './domain/templateDefaults.js';
import { buildApp, buildMetricsApp } from './app.js';
import { LocalStorage } from './storage/local.js';
import { DiskSpace } from './storage/diskSpace.js';
import { Sfu } from './sfu/index.js';
import { UploadManager } from './storage/uploads.js';
import { RetentionSweeper } from './storage/retention.js';
import { WebhookOutbox } from './webhooks/outbox.js';
import { JobSupervisor } from './domain/jobSupervisor.js';
import { UploadEvents } from './domain/uploadEvents.js';
import { RecordingService } from './domain/recordingService.js';
import { LiveStreamService } from './domain/liveStreamService.js';
import type { ApiDeps } from './api/types.js';
import { EgressWorker } from './recorder/worker.js';
import { NodeRegistry, type NodeReport } from './fleet/nodeRegistry.js';
import { objectId } from './clock.js';
import type { RedisOptions } from 'ioredis';

/**
 * Every part of a running server, built once; tests and the CLI reach the parts through it. The routes' part
 * (ApiDeps: settings, store, workspace ids, local storage, disk, SFU, uploads, webhooks, the job services) and:
 */
export interface Services extends ApiDeps {
  log: Logger;
  store: Store;
  events: EventLog;
  queue: JobQueue;
  /** automatic start/stop of recorder jobs */
  supervisor: JobSupervisor;
  /** this machine's recorder workers (RECORDER_WORKERS; 0 = it takes no recorder work) */
  recorder: EgressWorker;
  retention: RetentionSweeper;
}

export interface RunningServer {
  services: Services;
  app: FastifyInstance;
  url: string;
  /** SIGTERM on a fleet's node: no new rooms here; waits (up to DRAIN_TIMEOUT_SECONDS) until its rooms are empty */
  drain(): Promise<void>;
  close(): Promise<void>;
}

/** Builds the parts; nothing runs yet (startServer starts them). */
export async function composeServices(config: Config): Promise<Services> {
  const log = createLogger(config.logLevel);
  const store = await openStore(config.databaseUrl, config.dataDir);
  const { db } = store;
  const { customerId, appId } = workspaceIds(config);
  await ensureDefaultTemplate(db, customerId, defaultTemplateBody());
  const events = new EventLog(db);
  const queue: JobQueue = config.redisUrl ? new BullJobQueue(db, redisConnection(config.redisUrl), config.recorderTakeoverMs) : new DbJobQueue(db);
  const localStorage = new LocalStorage(config.dataDir, config.appSecret, () => config.publicUrl);
  const disk = new DiskSpace({ config, log });
  const sfu = new Sfu({ config, db, events, log });
  // a fleet's nodes and where its rooms live (a recorder machine only reads it)
  const nodes = config.redisUrl ? new NodeRegistry(redisConnection(config.redisUrl) as RedisOptions, { id: `node-${objectId()}`, url: () => config.publicUrl }, sfu) : null;
  // the upload manager reports how uploads end; the jobs' events (beam.*, hls.*) are the domain's to send
  const uploads: UploadManager = new UploadManager(
    { config, db, log, localStorage, customerId },
    new UploadEvents({ config, db, events, webhookUrl: (asset, seconds) => uploads.webhookUrl(asset, seconds) }),
  );
  const webhooks = new WebhookOutbox({ config, db, log, events, customerId, appId });
  const jobDeps = { config, db, events, queue, uploads, disk };
  const recordings = new RecordingService(jobDeps);
  const liveStreams = new LiveStreamService(jobDeps);
  const supervisor = new JobSupervisor({ db, events, log, recordings, liveStreams });
  const recorder = new EgressWorker({ config, db, log, queue, localStorage, disk, customerId, recordings, liveStreams, uploads, nodes });
  const retention = new RetentionSweeper({ config, db, log, localStorage });
  return { config, log, store, db, events, queue, customerId, appId, localStorage, disk, sfu, uploads, webhooks, recordings, liveStreams, supervisor, recorder, retention, nodes };
}

export async function startServer(config: Config = loadConfig()): Promise<RunningServer> {
  const services = await composeServices(config);
  const { sfu, webhooks, uploads, retention, supervisor, recorder, store, disk } = services;
  // the reserve is made (or released) before anything writes
  disk.start();
  const app = await buildApp(services);
  await sfu.start(app.server);
  await app.listen({ port: config.port, host: config.host });
  const addr = app.server.address();
  const port = typeof addr === 'object' && addr ? addr.port : config.port;
  // PORT=0 (tests) picks a free port: the public URL follows it.
  if (config.port === 0) config.publicUrl = `http://127.0.0.1:${port}`;
  // background work whose state is in the database: webhook deliveries, uploads, the local retention sweep
  webhooks.start();
  await uploads.start();
  retention.start();
  // recordings and live streams: automatic start/stop rules, and this machine's recorder workers
  supervisor.start();
  recorder.start();
  // in a fleet, this node reports itself and the rooms it hosts (after the port is known: its URL may follow it)
  services.nodes?.start();
  return {
    services,
    app,
    url: `http://127.0.0.1:${port}`,
    async drain() {
      if (!services.nodes) return;
      await services.nodes.drain();
      const until = Date.now() + config.drainTimeoutMs;
      services.log.info({ peers: sfu.load().peers }, 'draining: no new rooms on this node; waiting for its rooms to empty');
      while (sfu.load().peers > 0 && Date.now() < until) await new Promise((r) => setTimeout(r, 500));
    },
    async close() {
      await services.nodes?.close();
      // recorder jobs end first (their files become assets), then peers leave (events, session close),
      // then the HTTP server stops
      supervisor.stop();
      await recorder.stop();
      await services.queue.close();
      await sfu.close();
      await app.close();
      await retention.stop();
      await uploads.stop();
      await webhooks.stop();
      disk.stop();
      await store.close();
    },
  };
}

/** What `roomcast worker` needs: the fleet's queue and database, and a shared store for what it records. */
export function fleetWorkerProblems(config: Config): string[] {
  const problems: string[] = [];
  if (!config.redisUrl) problems.push('REDIS_URL (the fleet\'s job dispatch) is not set');
  if (!config.databaseUrl || !/^postgres(ql)?:\/\//.test(config.databaseUrl)) problems.push('DATABASE_URL must be the fleet\'s PostgreSQL (postgres://…)');
  if (!config.defaultStore) problems.push('STORAGE_URL (the shared store the recordings go to) is not set');
  if (config.recorderWorkers < 1) problems.push('RECORDER_WORKERS must be at least 1 on a worker');
  return problems;
}

/**
 * A fleet's recorder machine (`roomcast worker`): takes jobs from REDIS_URL's queue, records them, uploads
 * to STORAGE_URL. No HTTP server and no rooms: the recorder joins the room on the node that serves it (the
 * job's meeting URL); webhooks and auto start/stop are the nodes' work.
 */
export async function startWorker(config: Config): Promise<{ services: Services; drain(): Promise<void>; close(): Promise<void> }> {
  const problems = fleetWorkerProblems(config);
  if (problems.length) throw new Error(`roomcast worker: ${problems.join('; ')}`);
  const services = await composeServices(config);
  const { disk, uploads, retention, recorder, queue, store } = services;
  disk.start();
  await uploads.start();
  retention.start();
  recorder.start();
  // Prometheus reaches a recorder machine on its own port (it has no API)
  const metrics = config.metricsPort === null ? null : await buildMetricsApp(services);
  await metrics?.listen({ port: config.metricsPort!, host: config.host });
  return {
    services,
    /** SIGTERM: no new jobs; those running end on their own and their assets go up, within DRAIN_TIMEOUT_SECONDS */
    async drain() {
      const until = Date.now() + config.drainTimeoutMs;
      await recorder.drain(config.drainTimeoutMs);
      await uploads.drained(Math.max(0, until - Date.now()));
    },
    async close() {
      await metrics?.close();
      await recorder.stop();
      services.nodes?.disconnect();
      await queue.close();
      await retention.stop();
      await uploads.stop();
      disk.stop();
      await store.close();
    },
  };
}

/** `roomcast status`: the fleet's recorder machines (their last reports) and its jobs, as JSON. */
export async function fleetStatus(config: Config): Promise<{ nodes: NodeReport[]; machines: MachineReport[]; capacity: { recorders: number; running: number; freeCores: number }; jobs: StoreCounts }> {
  if (!config.redisUrl) throw new Error('roomcast status shows a fleet: REDIS_URL is not set');
  const store = await openStore(config.databaseUrl, config.dataDir);
  const queue = new BullJobQueue(store.db, redisConnection(config.redisUrl), config.recorderTakeoverMs);
  const registry = new NodeRegistry(redisConnection(config.redisUrl) as RedisOptions, { id: 'status', url: () => '' }, { load: () => ({ rooms: 0, peers: 0 }), hostedRooms: () => [] });
  try {
    const [nodes, machines, jobs] = await Promise.all([registry.nodes(), queue.machines(), storeCounts(store.db, Date.now())]);
    const sum = (f: (m: MachineReport) => number) => Math.round(machines.reduce((t, m) => t + f(m), 0) * 100) / 100;
    return { nodes, machines, capacity: { recorders: sum((m) => m.recorders), running: sum((m) => m.running), freeCores: sum((m) => m.freeCores) }, jobs };
  } finally {
    registry.disconnect();
    await queue.close();
    await store.close();
  }
}
