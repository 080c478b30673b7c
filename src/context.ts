// What every part of the server shares: settings, the store, the event log, the job queue, the logger.
import type { Config } from './config.js';
import type { Store } from './store/db.js';
import type { Logger } from './logger.js';
import type { EventLog } from './domain/events.js';
import type { JobQueue } from './jobs/queue.js';
import type { LocalStorage } from './storage/local.js';
import type { Sfu } from './sfu/index.js';
import type { UploadManager } from './storage/uploads.js';
import type { WebhookOutbox } from './webhooks/outbox.js';

export interface AppContext {
  config: Config;
  store: Store;
  log: Logger;
  events: EventLog;
  queue: JobQueue;
  /** assets on this machine's disk (the default store) */
  localStorage: LocalStorage;
  /** WebRTC rooms in this process: activePeers(roomId), activeSession(roomId) */
  sfu: Sfu;
  /** uploads of recorded assets to the customer's store (S3, GCS, OSS, Azure) */
  uploads: UploadManager;
  /** webhook outbox: durable deliveries of stored events */
  webhooks: WebhookOutbox;
  /** workspace ids: customer_id and app_id of API objects and events */
  customerId: string;
  appId: string;
}
