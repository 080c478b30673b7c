// What /metrics reads from the database at each scrape (api/metrics.ts): jobs by kind and state, the recorder
// queue, and the webhook and upload backlogs. Counts only: no row content leaves here.
import type { Db } from './db.js';

export interface StoreCounts {
  jobs: Array<{ kind: 'recording' | 'live-stream'; status: string; n: number }>;
  queued: number;
  claimed: number;
  /** seconds the oldest waiting job has waited (0: none waits) */
  oldestQueuedSeconds: number;
  webhookBacklog: number;
  uploadBacklog: number;
}

export async function storeCounts(db: Db, nowMs: number): Promise<StoreCounts> {
  const byStatus = (table: 'recordings' | 'live_streams') =>
    db.selectFrom(table).select(['status', (eb) => eb.fn.countAll<number>().as('n')]).groupBy('status').execute();
  const [recordings, streams, queue, oldest, webhooks, uploads] = await Promise.all([
    byStatus('recordings'),
    byStatus('live_streams'),
    db.selectFrom('job_queue').select(['state', (eb) => eb.fn.countAll<number>().as('n')]).where('state', 'in', ['queued', 'claimed']).groupBy('state').execute(),
    db.selectFrom('job_queue').select((eb) => eb.fn.min('created_at').as('at')).where('state', '=', 'queued').executeTakeFirst(),
    db.selectFrom('webhook_deliveries').select((eb) => eb.fn.countAll<number>().as('n')).where('status', '=', 'pending').executeTakeFirst(),
    db.selectFrom('assets').select((eb) => eb.fn.countAll<number>().as('n')).where('upload_state', '=', 'pending').executeTakeFirst(),
  ]);
  const queueOf = (state: string) => Number(queue.find((q) => q.state === state)?.n ?? 0);
  const oldestAt = oldest?.at ? Date.parse(String(oldest.at)) : NaN;
  return {
    jobs: [
      ...recordings.map((r) => ({ kind: 'recording' as const, status: r.status, n: Number(r.n) })),
      ...streams.map((r) => ({ kind: 'live-stream' as const, status: r.status, n: Number(r.n) })),
    ],
    queued: queueOf('queued'),
    claimed: queueOf('claimed'),
    oldestQueuedSeconds: Number.isFinite(oldestAt) ? Math.max(0, (nowMs - oldestAt) / 1000) : 0,
    webhookBacklog: Number(webhooks?.n ?? 0),
    uploadBacklog: Number(uploads?.n ?? 0),
  };
}
