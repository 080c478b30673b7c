// Types the route files share: the typed Fastify instance, and what routes are built with.
import type { FastifyBaseLogger, FastifyInstance, RawReplyDefaultExpression, RawRequestDefaultExpression, RawServerDefault } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { Config } from '../config.js';
import type { Db } from '../store/db.js';
import type { LocalStorage } from '../storage/local.js';
import type { DiskSpace } from '../storage/diskSpace.js';
import type { UploadManager } from '../storage/uploads.js';
import type { Sfu } from '../sfu/index.js';
import type { WebhookOutbox } from '../webhooks/outbox.js';
import type { RecordingService } from '../domain/recordingService.js';
import type { LiveStreamService } from '../domain/liveStreamService.js';
import type { EgressWorker } from '../recorder/worker.js';
import type { NodeRegistry } from '../fleet/nodeRegistry.js';

/** A Fastify instance whose route schemas (TypeBox) type the handlers' params, query and body. */
export type ApiInstance = FastifyInstance<
  RawServerDefault,
  RawRequestDefaultExpression<RawServerDefault>,
  RawReplyDefaultExpression<RawServerDefault>,
  FastifyBaseLogger,
  TypeBoxTypeProvider
>;

/** What the routes are built with (server.ts): settings, the store, and the services they call. */
export interface ApiDeps {
  config: Config;
  db: Db;
  /** workspace ids: customer_id and app_id of API objects */
  customerId: string;
  appId: string;
  localStorage: LocalStorage;
  /** room on the data disk (/healthz) */
  disk: DiskSpace;
  sfu: Sfu;
  uploads: UploadManager;
  webhooks: WebhookOutbox;
  recordings: RecordingService;
  liveStreams: LiveStreamService;
  /** this machine's recorders: CPU they may still take on (/metrics) */
  recorder: Pick<EgressWorker, 'freeCores'>;
  /** a fleet's nodes (REDIS_URL): which node a room lives on; null on one machine alone */
  nodes: NodeRegistry | null;
}
