// A recorder machine of a fleet can die after it made a recording's asset but before the asset reached the
// store: the row waits for an upload only that machine's disk could do. The recording is not lost: its parts
// are still in the bucket (they go only once the asset is stored, storage/uploads.ts), complete up to the
// stop (the worker sends the last part before it finalises). Every recorder machine sweeps for such assets:
// one whose machine has not reported for `deadAfterMs` is rebuilt here from its parts, adopted (a fenced
// update: one machine wins) and uploaded from this disk as if it had been made here.
import { mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import type { Db } from '../store/db.js';
import type { Logger } from '../logger.js';
import type { LocalStorage } from '../storage/local.js';
import type { UploadManager } from '../storage/uploads.js';
import type { JobQueue } from '../jobs/queue.js';
import type { AssetTable } from '../store/schema.js';
import { adoptUpload, strandedUploads } from '../store/uploads.js';
import { describeStoreError } from '../storage/index.js';
import { restoreParts } from './streamedParts.js';
import { mp4Segments } from './outputs/mp4File.js';
import { trimToCompleteFragments } from './outputs/mp4Fragments.js';
import type { MediaTools } from './mediaTools.js';

/** a machine whose report expired this long ago is taken for dead (its report lives 15 s) */
export const STRANDED_AFTER_MS = 20_000;
const AT_ONCE = 2;

export interface StrandedAssetsDeps {
  db: Db;
  log: Logger;
  localStorage: LocalStorage;
  queue: Pick<JobQueue, 'machines'>;
  uploads: Pick<UploadManager, 'partsPlace' | 'schedule'>;
  media: MediaTools;
  /** this machine's name for its local copies (storage/uploads.ts localNodeId) */
  storageNode: string;
}

export class StrandedAssets {
  /** machines seen missing, and since when */
  private readonly missingSince = new Map<string, number>();
  private busy = false;

  constructor(
    private readonly deps: StrandedAssetsDeps,
    private readonly deadAfterMs = STRANDED_AFTER_MS,
  ) {}

  /** One sweep (skipped while one runs): assets of machines dead long enough are rebuilt and adopted. */
  async sweep(): Promise<number> {
    if (this.busy) return 0;
    this.busy = true;
    try {
      const alive = [this.deps.storageNode, ...(await this.deps.queue.machines()).flatMap((m) => (m.storageNode ? [m.storageNode] : []))];
      const stranded = await strandedUploads(this.deps.db, alive, AT_ONCE);
      const now = Date.now();
      for (const node of this.missingSince.keys()) if (!stranded.some((a) => a.local_node === node)) this.missingSince.delete(node);
      let adopted = 0;
      for (const a of stranded) {
        const since = this.missingSince.get(a.local_node!) ?? now;
        this.missingSince.set(a.local_node!, since);
        if (now - since < this.deadAfterMs) continue;
        if (await this.adopt(a)) adopted++;
      }
      return adopted;
    } finally {
      this.busy = false;
    }
  }

  private async adopt(a: AssetTable): Promise<boolean> {
    const log = this.deps.log.child({ assetId: a.id, recordingId: a.job_id, from: a.local_node });
    const place = await this.deps.uploads.partsPlace(a.room_id, a.job_id!).catch(() => null);
    if (!place) return false;
    const dir = mkdtempSync(join(tmpdir(), 'roomcast-stranded-'));
    const key = a.local_key ?? a.storage_key;
    try {
      const restored = await restoreParts(place, dir);
      const segments = mp4Segments(dir).filter((s) => trimToCompleteFragments(s.file) !== 0);
      if (segments.length === 0) {
        log.warn({ restored }, 'a stranded asset has no parts in its store to rebuild it from');
        return false;
      }
      let file = segments[0].file;
      if (segments.length > 1) {
        file = join(dir, 'joined.mp4');
        await this.deps.media.joinSegments(segments.map((s) => s.file), file);
      }
      // the copy is in place before the row names this machine: its upload may start at once
      const { size } = this.deps.localStorage.put(key, file);
      if (!(await adoptUpload(this.deps.db, a.id, a.local_node!, this.deps.storageNode, size, new Date().toISOString()))) {
        this.deps.localStorage.remove(key);
        return false;
      }
      log.warn({ bytes: size, segments: segments.length }, 'the machine holding a recording\'s asset died before its upload; rebuilt here from its parts');
      await this.deps.uploads.schedule(a.id);
      return true;
    } catch (err) {
      log.warn({ err: describeStoreError(err) }, 'could not rebuild a stranded asset from its parts (tried again at the next sweep)');
      return false;
    } finally {
      rmSync(dir, { recursive: true, force: true });
      place.store.close();
    }
  }
}
