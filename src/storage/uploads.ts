// Uploads recorded assets to the customer's store, whatever the asset and the job that made it. The recording
// is first on this disk; the asset row carries the upload's state (pending → done, or failed after retries),
// so a restart resumes it. The local copy stays until the store confirms the whole object, then it is
// deleted; meanwhile the asset is downloadable from the local copy. Nothing recorded is dropped: a failed
// upload keeps the local file and is retried hourly.
//
// The manager decides nothing about webhooks: it reports to the UploadReports it is built with: `uploaded`
// (in the store, or staying here when the room's store configuration was removed) and `failed` (each failed
// attempt; `givenUp` once, when the store refuses the configuration at the 4th attempt or stayed unreachable
// for 24 h, or the local copy is gone). domain/uploadEvents.ts turns them into the jobs' events.
import { EventEmitter } from 'node:events';
import { existsSync, readdirSync, rmSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { VodUrlSigner } from './live.js';
import { hostname } from 'node:os';
import type { Config } from '../config.js';
import type { Db } from '../store/db.js';
import type { Logger } from '../logger.js';
import type { LocalStorage } from './local.js';
import type { AssetTable } from '../store/schema.js';
import { fromJson, toJson } from '../store/db.js';
import { now, rfc3339 } from '../clock.js';
import { getTemplate } from '../store/templates.js';
import { getRoomRow } from '../store/rooms.js';
import {
  dueUploads,
  pendingUploadCount,
  keepAssetLocal,
  markUploaded,
  markUploadFailed,
  resumeUploadAt,
  retryUploadAt,
  saveUploadId,
  schedulePendingUpload,
  scheduleUnscheduledUploads,
} from '../store/uploads.js';
import {
  defaultPresignSeconds,
  describeStoreError,
  isConfigError,
  remoteKeyOf,
  storeFor,
  targetFromRoom,
  targetFromTemplate,
  type AssetStore,
  type RoomUploadInfo,
  type StoreType,
  type StoredRange,
  type UploadTarget,
} from './index.js';
import { partsPrefixOf, livePrefixOf, removeParts, streamedRanges, type PartsPlace } from './parts.js';
import { CoalescingRunner } from '../jobs/coalescingRunner.js';

/** Seconds before the next attempt after the n-th failed one; the last value repeats. */
export const UPLOAD_RETRY_DELAYS_S = [1, 3, 10, 30, 60, 120, 300];
/** A store still refusing the configuration at this attempt is an UPLOAD_ERROR. */
export const CONFIG_ERROR_TRIES = 4;
/** A store unreachable for this long is an UPLOAD_ERROR too. */
const UNREACHABLE_WINDOW_MS = 24 * 3600_000;
/** After an UPLOAD_ERROR the upload is still tried, hourly: fixing the configuration brings the asset home. */
const AFTER_FAILURE_RETRY_MS = 3600_000;
const CONCURRENCY = 2;
const POLL_MS = 1000;

export interface UploadProgress {
  assetId: string;
  bytes: number;
}

/** Result of one attempt, also emitted as 'attempt'. */
export interface UploadAttempt {
  assetId: string;
  ok: boolean;
  tries: number;
  error?: string;
  configError?: boolean;
  size?: number;
  seconds?: number;
}

/** The asset's upload is over: it is in the store, or it stays on this server (its room's store was removed). */
export interface AssetUploaded {
  /** the row as it is now: the store's path and key, or `storage: 'local'` when it stays here */
  asset: AssetTable;
  /** it had been given up on (upload_state failed) before this attempt brought it to the store */
  recovered: boolean;
}

/** An upload attempt failed: the local copy is kept, and the upload retried unless that copy is gone. */
export interface AssetUploadFailed {
  /** the row as the attempt found it (the local copy) */
  asset: AssetTable;
  tries: number;
  error: string;
  /** this failure is final for now (UPLOAD_ERROR): reported once per asset, not at the hourly retries after it */
  givenUp: boolean;
}

/** What the upload manager is built with (server.ts). */
export interface UploadDeps {
  config: Config;
  db: Db;
  log: Logger;
  localStorage: LocalStorage;
  /** the workspace: remote keys start with it */
  customerId: string;
}

/** Who hears how uploads end (domain/uploadEvents.ts); a report that throws is logged, the upload's state stands. */
export interface UploadReports {
  uploaded(report: AssetUploaded): Promise<void>;
  failed(report: AssetUploadFailed): Promise<void>;
}

/** This server's identity for local copies: servers sharing a database each upload the files on their own disk. */
export function localNodeId(deps: Pick<UploadDeps, 'localStorage'>): string {
  return `${hostname()}:${deps.localStorage.root}`;
}

export class UploadManager extends EventEmitter {
  private stopped = true;
  private readonly runner = new CoalescingRunner(
    () => this.tick(),
    (err) => this.deps.log.error({ err }, 'upload manager error'),
    () => !this.stopped,
  );
  private readonly inFlight = new Map<string, Promise<unknown>>();
  private timer: NodeJS.Timeout | null = null;
  /** aborts uploads in flight when the server stops: they resume at the next start */
  private abort = new AbortController();
  readonly nodeId: string;

  private readonly vodSigner: VodUrlSigner;

  constructor(
    private readonly deps: UploadDeps,
    private readonly reports: UploadReports,
    /** builds a store client for a target (tests may wrap it) */
    private readonly storeOf: (t: UploadTarget) => AssetStore = (t) => storeFor(t, { allowPrivateEndpoint: deps.config.storageAllowPrivate || t.operator === true }),
  ) {
    super();
    this.nodeId = localNodeId(deps);
    this.vodSigner = new VodUrlSigner(deps.config.appSecret, () => deps.config.publicUrl);
  }

  private get db() {
    return this.deps.db;
  }

  async start(): Promise<void> {
    this.stopped = false;
    this.abort = new AbortController();
    // assets recorded right before a crash were inserted but never scheduled: schedule them now
    await scheduleUnscheduledUploads(this.db, this.nodeId, rfc3339());
    this.timer = setInterval(() => this.kick(), POLL_MS);
    this.timer.unref();
    this.kick();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    this.abort.abort();
    await this.runner.idle();
    await Promise.allSettled([...this.inFlight.values()]);
  }

  kick(): void {
    this.runner.trigger();
  }

  private async tick(): Promise<void> {
    if (this.inFlight.size >= CONCURRENCY) return;
    const due = await dueUploads(this.db, this.nodeId, rfc3339(), CONCURRENCY * 2);
    for (const a of due) {
      if (this.inFlight.size >= CONCURRENCY || this.stopped) break;
      if (this.inFlight.has(a.id)) continue;
      const p = this.attempt(a)
        .catch((err) => this.deps.log.error({ err, assetId: a.id }, 'upload bookkeeping failed'))
        .finally(() => {
          this.inFlight.delete(a.id);
          this.kick();
        });
      this.inFlight.set(a.id, p);
    }
  }

  /** Waits (up to `timeoutMs`) until no asset of this machine waits for its upload: a draining worker's last job. */
  async drained(timeoutMs: number): Promise<boolean> {
    const until = Date.now() + timeoutMs;
    for (;;) {
      if ((await pendingUploadCount(this.db, this.nodeId)) === 0) return true;
      if (Date.now() >= until || this.stopped) return false;
      this.kick();
      await new Promise((r) => setTimeout(r, 250));
    }
  }

  /** The room's store: its own recording_info.upload_info, else its template's settings.recording.upload, else the server's STORAGE_URL. */
  async targetForRoom(roomId: string): Promise<UploadTarget | null> {
    const room = await getRoomRow(this.db, roomId);
    if (!room) return null;
    const info = fromJson<{ upload_info?: RoomUploadInfo } | null>(room.recording_info, null);
    if (info?.upload_info?.type) return targetFromRoom(info.upload_info, this.deps.customerId);
    const template = await getTemplate(this.db, room.template_id);
    const upload = template?.settings.recording?.upload;
    if (upload?.type) return targetFromTemplate(upload, this.deps.customerId);
    const own = this.deps.config.defaultStore;
    return own ? { ...own, prefix: own.prefix || this.deps.customerId } : null;
  }

  /** Where a job of this room streams its parts while it records (its room's store), or null (no store: this disk keeps it). */
  partsPlace(roomId: string, jobId: string): Promise<PartsPlace | null> {
    return this.placeIn(roomId, (t) => partsPrefixOf(t, jobId));
  }

  /** Where a fleet's live stream is mirrored in its room's store while it runs. */
  livePlace(roomId: string, streamId: string): Promise<PartsPlace | null> {
    return this.placeIn(roomId, (t) => livePrefixOf(t, streamId));
  }

  /** A new client of the room's store (the caller closes it) and a prefix in it. */
  private async placeIn(roomId: string, prefixOf: (t: UploadTarget) => string): Promise<PartsPlace | null> {
    const target = await this.targetForRoom(roomId);
    return target ? { store: this.storeOf(target), prefix: prefixOf(target) } : null;
  }

  /**
   * Marks a new local asset for upload when its room has a store (the caller inserts the row, then calls
   * schedule). `owesEvent`: the job's success event for the asset waits for the upload's report, not sent by
   * the caller (event_sent 0: the reports' listener claims it, store/assetEvents.ts).
   */
  async prepare<T extends AssetTable>(asset: T, owesEvent: boolean): Promise<T> {
    if (asset.storage !== 'local') return asset;
    const local = { ...asset, local_key: asset.storage_key, local_node: this.nodeId };
    let hasStore: boolean;
    try {
      hasStore = (await this.targetForRoom(asset.room_id)) !== null;
    } catch (err) {
      // an unusable configuration (unknown type): still an upload to attempt, it fails as UPLOAD_ERROR
      this.deps.log.warn({ err: describeStoreError(err), roomId: asset.room_id }, 'room storage configuration is invalid');
      hasStore = true;
    }
    if (!hasStore) return local;
    return { ...local, upload_state: 'pending', upload_attempts: 0, upload_next_at: null, upload_error: null, event_sent: owesEvent ? 0 : 1 };
  }

  /** Starts the upload of a prepared asset now. */
  async schedule(assetId: string): Promise<void> {
    await schedulePendingUpload(this.db, assetId, rfc3339());
    this.kick();
  }

  /** A store client for an uploaded asset: the credentials it was uploaded with, fresher ones if the room's config still names that bucket. */
  private async storeOfUploaded(a: AssetTable): Promise<AssetStore> {
    const saved = fromJson<UploadTarget | null>(a.upload_target, null);
    if (!saved) throw new Error(`asset ${a.id} has no stored upload target`);
    let current: UploadTarget | null = null;
    try {
      current = await this.targetForRoom(a.room_id);
    } catch {
      /* keep the saved one */
    }
    const same = current && current.type === saved.type && current.location === saved.location && current.endpoint === saved.endpoint;
    return this.storeOf(same && current!.key && current!.secret ? { ...saved, key: current!.key, secret: current!.secret } : saved);
  }

  /** A download URL from wherever the asset is now; `seconds` defaults per store (3 days, OSS 9 h). */
  async presign(a: AssetTable, seconds?: number): Promise<{ url: string; expiry: number }> {
    if (a.storage === 'local') {
      const secs = seconds ?? defaultPresignSeconds('local');
      // a local VOD plays through path-signed URLs, so its relative playlist and segment links work
      if (a.type === 'room-vod') return this.vodSigner.presign(a.id, secs);
      return this.deps.localStorage.presign(a.storage_key, secs);
    }
    const store = await this.storeOfUploaded(a);
    try {
      return await store.presign(a.storage_key, seconds ?? defaultPresignSeconds(a.storage as StoreType));
    } finally {
      store.close();
    }
  }

  /** A presigned URL of the asset where it is now for a webhook, or null (logged) when the store cannot sign. */
  async webhookUrl(a: AssetTable, seconds: number): Promise<string | null> {
    try {
      return (await this.presign(a, seconds)).url;
    } catch (err) {
      this.deps.log.warn({ err: describeStoreError(err), assetId: a.id }, 'could not presign the asset for its webhook');
      return null;
    }
  }

  /** One upload attempt of an asset (the loop calls it; tests may too). */
  async attempt(a: AssetTable): Promise<UploadAttempt> {
    const tries = (a.upload_attempts ?? 0) + 1;
    const started = Date.now();
    let store: AssetStore | null = null;
    try {
      const target = await this.targetForRoom(a.room_id);
      if (!target) {
        // the storage configuration was removed: the asset stays on this server, as any local asset
        const local = { upload_state: null, upload_next_at: null, upload_error: 'storage configuration removed; the asset stays on this server' };
        await keepAssetLocal(this.db, a.id, local);
        await this.report(a.id, () => this.reports.uploaded({ asset: { ...a, ...local }, recovered: false }));
        return { assetId: a.id, ok: true, tries };
      }
      if (!a.local_key || !existsSync(this.deps.localStorage.fileOf(a.local_key))) {
        const error = `the local copy ${a.local_key ?? ''} is missing`;
        await this.markFailed(a, tries, error, null);
        await this.report(a.id, () => this.reports.failed({ asset: a, tries, error, givenUp: a.upload_state !== 'failed' }));
        return { assetId: a.id, ok: false, tries, error: 'local copy missing' };
      }
      store = this.storeOf(target);
      const key = remoteKeyOf(target, a.local_key, this.deps.customerId);
      let size = 0;
      if (a.type === 'room-vod') {
        // an unzipped VOD: every playlist and segment under the master's directory, the master last (a master
        // in the bucket means the whole VOD is there); small files, so a retry sends them all again
        const localDir = dirname(a.local_key);
        const files = filesUnder(this.deps.localStorage.fileOf(localDir)).sort((x, y) => Number(x.endsWith('master.m3u8')) - Number(y.endsWith('master.m3u8')));
        for (const rel of files) {
          const r = await store.upload(remoteKeyOf(target, `${localDir}/${rel}`, this.deps.customerId), this.deps.localStorage.fileOf(`${localDir}/${rel}`), { signal: this.abort.signal });
          size += r.size;
        }
      } else {
        const file = this.deps.localStorage.fileOf(a.local_key);
        ({ size } = await store.upload(key, file, {
          storedRanges: a.type === 'room-composite' && a.job_id ? await this.streamedRangesOf(store, target, a.job_id, file) : [],
          resumeId: a.upload_id,
          onResumeId: async (id) => {
            await saveUploadId(this.db, a.id, id);
          },
          onProgress: (bytes) => this.emit('progress', { assetId: a.id, bytes } satisfies UploadProgress),
          signal: this.abort.signal,
        }));
      }
      const done = {
        storage: target.type,
        storage_key: key,
        path: store.pathOf(key),
        upload_state: 'done',
        upload_attempts: tries,
        upload_next_at: null,
        upload_error: null,
        upload_id: null,
        upload_target: toJson(target),
        uploaded_at: rfc3339(),
      };
      await markUploaded(this.db, a.id, done);
      // the store confirmed the whole object and the row points at it: the local copy can go
      if (a.type === 'room-vod') rmSync(this.deps.localStorage.fileOf(dirname(a.local_key)), { recursive: true, force: true });
      else this.deps.localStorage.remove(a.local_key);
      const seconds = (Date.now() - started) / 1000;
      this.deps.log.info({ assetId: a.id, path: done.path, size, seconds, mbPerSecond: Math.round(size / 1e6 / Math.max(seconds, 0.001)) }, 'asset uploaded');
      await this.report(a.id, () => this.reports.uploaded({ asset: { ...a, ...done }, recovered: a.upload_state === 'failed' }));
      // the recording's safety copy (parts streamed while it recorded) is not needed once the asset is stored;
      // removed after the report, so the job's state and events do not wait for this cleanup
      if (a.type === 'room-composite' && a.job_id) {
        await removeParts({ store, prefix: partsPrefixOf(target, a.job_id) }).catch((err) => this.deps.log.warn({ err: describeStoreError(err), assetId: a.id }, 'could not remove the recording\'s streamed parts'));
      }
      const res: UploadAttempt = { assetId: a.id, ok: true, tries, size, seconds };
      this.emit('attempt', res);
      return res;
    } catch (err) {
      if (this.abort.signal.aborted) {
        // shutting down: not a failed attempt; the next start resumes it (multipart parts already stored are kept)
        await resumeUploadAt(this.db, a.id, rfc3339());
        return { assetId: a.id, ok: false, tries: tries - 1, error: 'interrupted by shutdown' };
      }
      const error = describeStoreError(err);
      const configError = isConfigError(err);
      this.deps.log.warn({ assetId: a.id, tries, error, configError }, 'asset upload failed; the local copy is kept');
      const exhausted = configError ? tries >= CONFIG_ERROR_TRIES : now().getTime() - Date.parse(a.created_at) > UNREACHABLE_WINDOW_MS;
      const givenUp = a.upload_state !== 'failed' && exhausted;
      if (givenUp) {
        await this.markFailed(a, tries, error, now().getTime() + AFTER_FAILURE_RETRY_MS);
      } else {
        const delay = a.upload_state === 'failed' ? AFTER_FAILURE_RETRY_MS : UPLOAD_RETRY_DELAYS_S[Math.min(tries, UPLOAD_RETRY_DELAYS_S.length) - 1] * 1000;
        await retryUploadAt(this.db, a.id, { upload_attempts: tries, upload_error: error, upload_next_at: rfc3339(new Date(now().getTime() + delay)) });
      }
      await this.report(a.id, () => this.reports.failed({ asset: a, tries, error, givenUp }));
      const res: UploadAttempt = { assetId: a.id, ok: false, tries, error, configError };
      this.emit('attempt', res);
      return res;
    } finally {
      store?.close();
    }
  }

  /**
   * The leading ranges of a recording's file that its streamed parts already hold in the store: those of its one
   * segment (a recording of several is joined anew, so its bytes differ), in order from byte 0, each of them
   * checked against the file (its MD5). None when that cannot be known: then the whole file is sent.
   */
  private async streamedRangesOf(store: AssetStore, target: UploadTarget, jobId: string, file: string): Promise<StoredRange[]> {
    try {
      return await streamedRanges({ store, prefix: partsPrefixOf(target, jobId) }, file);
    } catch (err) {
      this.deps.log.warn({ err: describeStoreError(err), jobId }, 'could not read the recording\'s streamed parts; sending the whole file');
      return [];
    }
  }

  /** UPLOAD_ERROR: the asset stays local (downloadable) and is retried at `retryAtMs` (never when null). */
  private async markFailed(a: AssetTable, tries: number, error: string, retryAtMs: number | null): Promise<void> {
    await markUploadFailed(this.db, a.id, { upload_attempts: tries, upload_error: error, upload_next_at: retryAtMs === null ? null : rfc3339(new Date(retryAtMs)) });
  }

  /** Tells the listener; its failure is not the upload's: logged, the asset's row stands. */
  private async report(assetId: string, send: () => Promise<void>): Promise<void> {
    try {
      await send();
    } catch (err) {
      this.deps.log.error({ err, assetId }, 'upload report failed');
    }
  }
}

/** Paths (relative, '/'-separated) of every file below a directory. */
function filesUnder(dir: string, rel = ''): string[] {
  return readdirSync(join(dir, rel)).flatMap((name) => {
    const r = rel ? `${rel}/${name}` : name;
    return statSync(join(dir, r)).isDirectory() ? filesUnder(dir, r) : [r];
  });
}
