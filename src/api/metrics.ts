// GET /metrics: Prometheus text (prom-client) for this node, behind a management token like every management
// route (for Prometheus: `roomcast token management --ttl <seconds>` as its bearer credentials). Each app has its
// own registry (tests run several servers in one process); the gauges are read at scrape time, not kept.
import { Registry, Gauge, Counter, collectDefaultMetrics } from 'prom-client';
import type { ApiDeps, ApiInstance } from './types.js';
import { requireManagementToken } from './auth.js';
import { storeCounts } from '../store/metrics.js';

function buildRegistry(deps: ApiDeps): Registry {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'roomcast_' });
  const gauge = (name: string, help: string, labelNames: string[] = []) =>
    new Gauge({ name, help, labelNames, registers: [registry], collect: () => refresh() });
  const jobs = gauge('roomcast_jobs', 'Recorder jobs by kind and status', ['kind', 'status']);
  const queued = gauge('roomcast_recorder_queue_jobs', 'Jobs waiting for a recorder');
  const oldestWait = gauge('roomcast_recorder_queue_oldest_wait_seconds', 'How long the oldest waiting job has waited');
  const free = gauge('roomcast_recorder_free_slots', 'Recorder slots free on this node (RECORDER_WORKERS minus jobs held)');
  const freeCores = gauge('roomcast_recorder_free_cpu_cores', 'CPU cores this machine may still give to new recorder jobs (MAX_CPU_UTILIZATION minus their measured cost)');
  const webhooks = gauge('roomcast_webhook_backlog', 'Webhook deliveries not yet delivered');
  const uploads = gauge('roomcast_upload_backlog', 'Recorded assets waiting for their upload');
  const rooms = gauge('roomcast_sfu_rooms', 'Rooms with peers on this node');
  const peers = gauge('roomcast_sfu_peers', 'Peers joined on this node (recorders included)');
  const streams = gauge('roomcast_sfu_forwarded_streams', 'Tracks this node forwards to subscribers');
  // counters the SFU keeps itself: each scrape adds what they grew since the last
  const counter = (name: string, help: string, read: () => number) => {
    let last = 0;
    return new Counter({
      name,
      help,
      registers: [registry],
      collect() {
        const now = read();
        if (now > last) this.inc(now - last);
        last = now;
      },
    });
  };
  counter('roomcast_sfu_retransmitted_packets_total', 'RTP packets the SFU sent again because a subscriber\'s NACK asked (lossy downlinks)', () => deps.sfu.load().retransmittedPackets);
  counter('roomcast_sfu_nacks_sent_total', 'NACKs the SFU sent publishers for video packets lost on their way in (lossy uplinks)', () => deps.sfu.load().nacksSent);

  // one read of the database per scrape, whichever gauge prom-client collects first
  let pending: Promise<void> | null = null;
  const refresh = (): Promise<void> =>
    (pending ??= (async () => {
      try {
        const c = await storeCounts(deps.db, Date.now());
        jobs.reset();
        for (const j of c.jobs) jobs.set({ kind: j.kind, status: j.status }, j.n);
        queued.set(c.queued);
        oldestWait.set(c.oldestQueuedSeconds);
        free.set(Math.max(0, deps.config.recorderWorkers - c.claimed));
        freeCores.set(deps.recorder.freeCores());
        webhooks.set(c.webhookBacklog);
        uploads.set(c.uploadBacklog);
        const load = deps.sfu.load();
        rooms.set(load.rooms);
        peers.set(load.peers);
        streams.set(load.forwardedStreams);
      } finally {
        setImmediate(() => (pending = null));
      }
    })());
  return registry;
}

export async function metricsRoutes(app: ApiInstance, deps: ApiDeps): Promise<void> {
  const registry = buildRegistry(deps);
  app.addHook('onRequest', requireManagementToken({ accessKey: deps.config.accessKey, appSecret: deps.config.appSecret }));
  app.get('/metrics', { schema: { hide: true } }, async (_req, reply) => {
    reply.header('content-type', registry.contentType);
    return registry.metrics();
  });
  app.addHook('onClose', async () => registry.clear());
}
