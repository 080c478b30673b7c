// Retention of assets kept on this server (no customer store): deleted RETENTION_DAYS after they were made
// (reference §7: 15 days), the row kept with deleted_at so the API can say why the asset is gone. Assets
// waiting for an upload, or whose upload failed, are never swept: their local copy is the only one.
// Also removes local copies left behind by uploads that were confirmed (a crash between the two steps).
// Runs at start and hourly; RETENTION_DAYS=0 keeps local assets forever.
import { rmSync } from 'node:fs';
import { dirname } from 'node:path';
import type { UploadDeps } from './uploads.js';
import { now, rfc3339 } from '../clock.js';
import { localNodeId } from './uploads.js';
import { expiredLocalAssets, markAssetDeleted, uploadedWithLocalCopy } from '../store/retention.js';

const EVERY_MS = 3600_000;

/** What the sweep needs: the settings, the store, this disk's assets. */
export type RetentionDeps = Pick<UploadDeps, 'config' | 'db' | 'log' | 'localStorage'>;

export async function sweepLocalAssets(deps: RetentionDeps): Promise<{ expired: number; leftovers: number }> {
  const { db } = deps;
  let expired = 0;
  let leftovers = 0;
  // servers sharing a database sweep the files on their own disk (rows without a node predate uploads)
  const node = localNodeId(deps);
  if (deps.config.retentionDays > 0) {
    const cutoff = rfc3339(new Date(now().getTime() - deps.config.retentionDays * 86400_000));
    const old = await expiredLocalAssets(db, node, cutoff);
    for (const a of old) {
      try {
        // an HLS VOD asset is its master playlist plus a directory of playlists and segments: all of it goes
        if (a.type === 'room-vod' && a.storage_key.endsWith('/master.m3u8')) rmSync(deps.localStorage.fileOf(dirname(a.storage_key)), { recursive: true, force: true });
        else deps.localStorage.remove(a.storage_key);
      } catch (err) {
        deps.log.warn({ err, assetId: a.id }, 'could not delete an expired asset file');
        continue;
      }
      await markAssetDeleted(db, a.id, rfc3339());
      expired++;
    }
  }
  const uploaded = await uploadedWithLocalCopy(db, node);
  for (const a of uploaded) {
    if (a.local_key && deps.localStorage.exists(a.local_key)) {
      deps.localStorage.remove(a.local_key);
      leftovers++;
    }
  }
  if (expired || leftovers) deps.log.info({ expired, leftovers, retentionDays: deps.config.retentionDays }, 'local asset retention sweep');
  return { expired, leftovers };
}

export class RetentionSweeper {
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<unknown> | null = null;

  constructor(private readonly deps: RetentionDeps) {}

  start(): void {
    this.run();
    this.timer = setInterval(() => this.run(), EVERY_MS);
    this.timer.unref();
  }

  private run(): void {
    if (this.running) return;
    this.running = sweepLocalAssets(this.deps)
      .catch((err) => this.deps.log.error({ err }, 'retention sweep failed'))
      .finally(() => {
        this.running = null;
      });
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.running;
  }
}
