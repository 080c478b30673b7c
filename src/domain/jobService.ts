// What every egress job resource shares (recordings, live streams; next, external streams): the start's common
// checks and the insert that loses a race cleanly, stop requests, the conditional status moves, closing with
// the kind's events, and the supervisor's view (active jobs, session links). Each kind's service adds its own
// start rules, its own requests and its event family (beam.*, hls.*).
import type { Config } from '../config.js';
import type { Db } from '../store/db.js';
import type { JobQueue, JobKind } from '../jobs/queue.js';
import type { EventLog } from './events.js';
import type { AssetTable, RoomTable } from '../store/schema.js';
import type { JobStatus } from '../model/jobStatus.js';
import type { Template } from '../model/templates.js';
import { JobRows, roomAndTemplate, type JobTableName, type RowOf } from '../store/jobRows.js';
import { conflict, forbidden, invalidInput, notFound, unavailable, type DomainError } from './errors.js';
import { isStoppable, STOP_REASONS, waitingReason } from './recordingJob.js';
import { closeJob, type JobEnding } from './jobClosing.js';
import { claimedJobCount, queuedJobs, withdrawQueued } from '../store/queuedJobs.js';
import { saveAssets } from '../store/openAssets.js';
import { rfc3339 } from '../clock.js';

/** The uploads a job's assets go through (storage/uploads.ts): the domain names only what it uses. */
export interface AssetUploads {
  /** marks a local asset for upload when the room has a store; `owesEvent`: its success event waits for it */
  prepare<A extends AssetTable>(asset: A, owesEvent: boolean): Promise<A>;
  schedule(assetId: string): Promise<void>;
}

/** Room on the data disk (storage/diskSpace.ts): why a job of that bitrate may not start now, or null. */
export interface StartRoom {
  startRefusal(kbps: number): string[] | null;
}

/** What a job service is built with (server.ts). */
export interface JobServiceDeps {
  config: Config;
  db: Db;
  events: EventLog;
  queue: JobQueue;
  uploads: AssetUploads;
  disk: StartRoom;
}

/** How one kind names itself: its table, its queue, and the words its errors use. */
export interface JobServiceKind<T extends JobTableName> {
  table: T;
  queue: JobKind;
  /** 'recording', 'live stream' */
  noun: string;
  /** 'record', 'stream': what a disabled room refuses */
  verb: string;
}

/** `O`: how a job of this kind ends, as its worker reports it (the kind's closing events need it). */
export abstract class JobService<T extends JobTableName, O extends JobEnding> {
  protected readonly rows: JobRows<T>;

  constructor(
    protected readonly deps: JobServiceDeps,
    readonly kind: JobServiceKind<T>,
  ) {
    this.rows = new JobRows(deps.db, kind.table);
  }

  protected get db(): Db {
    return this.deps.db;
  }

  /** The kind's closing events (stopped, recording success, failure), once the job is completed or failed. */
  protected abstract closeEvents(before: RowOf<T>, after: RowOf<T>, reason: string, failed: boolean, ending: O): Promise<void>;

  /** The kind's outcome of a job that ended before any recorder captured anything: no assets. */
  protected abstract nothingCaptured(ending: JobEnding): O;

  /** The room and its template for a start, with the checks every kind makes. */
  protected async startable(roomId: string, input: { transcription?: { enabled?: boolean } }): Promise<{ room: RoomTable; template: Template }> {
    const found = await roomAndTemplate(this.db, roomId);
    if (found.room.enabled !== 1) throw forbidden('Room is disabled', `room ${roomId} is disabled: enable it to ${this.kind.verb}`);
    if (input.transcription?.enabled) {
      throw invalidInput('Transcription is not available', 'body/transcription/enabled: transcription is not supported by this server');
    }
    return found;
  }

  /** Refuses a start while the room has an active job of this kind. */
  protected async refuseIfActive(roomId: string): Promise<void> {
    const active = await this.rows.active(roomId);
    if (active.length > 0) throw this.alreadyActive(roomId, active[0]);
  }

  /** Refuses a start when the data disk has no room for `kbps` (the job's bitrate cap) for a few minutes. */
  protected refuseIfDiskShort(kbps: number): void {
    const refusal = this.deps.disk.startRefusal(kbps);
    if (refusal) throw unavailable(`Not enough disk space to ${this.kind.verb}`, ...refusal);
  }

  /** Inserts a new job and hands it to the recorder workers; two starts racing: the other one won. */
  protected async insertAndQueue(row: RowOf<T>): Promise<RowOf<T>> {
    try {
      await this.rows.insert(row);
    } catch (err) {
      const winner = (await this.rows.active(row.room_id)).find((r) => r.id !== row.id);
      if (winner) throw this.alreadyActive(row.room_id, winner);
      throw err;
    }
    await this.deps.queue.enqueue(this.kind.queue, row.id);
    return row;
  }

  private alreadyActive(roomId: string, r: RowOf<T>): DomainError {
    const title = `${this.kind.noun[0].toUpperCase()}${this.kind.noun.slice(1)} already running`;
    return conflict(title, `${this.kind.noun} ${r.id} of room ${roomId} is ${r.status}: stop it before starting another`);
  }

  /** Asks every starting/running job of the room to stop. */
  async stopRoom(roomId: string, reason: string = STOP_REASONS.clientRequest, stoppedBy = ''): Promise<RowOf<T>[]> {
    await roomAndTemplate(this.db, roomId);
    const stoppable = (await this.rows.active(roomId)).filter((r) => isStoppable(r.status));
    if (stoppable.length === 0) throw notFound(`active ${this.kind.noun}`, `in room ${roomId}`);
    const out: RowOf<T>[] = [];
    for (const r of stoppable) out.push(await this.stopOne(r, reason, stoppedBy));
    return out;
  }

  async stopById(id: string, reason: string = STOP_REASONS.clientRequest, stoppedBy = ''): Promise<RowOf<T>> {
    const r = await this.rows.get(id);
    if (!r) throw notFound(this.kind.noun, id);
    if (r.status === 'stopping') return r;
    if (!isStoppable(r.status)) throw conflict(`${this.kind.noun[0].toUpperCase()}${this.kind.noun.slice(1)} is not running`, `${this.kind.noun} ${id} is ${r.status}`);
    return this.stopOne(r, reason, stoppedBy);
  }

  /**
   * Asks a job to stop. One still waiting for a free recorder has nothing to stop: it ends at once as failed
   * BEAM_STOPPED (reference: stop requested before the beam finished starting), with its failure event and no
   * asset. Otherwise its recorder ends it (stopping → post_processing → completed/failed).
   */
  private async stopOne(r: RowOf<T>, reason: string, stoppedBy: string): Promise<RowOf<T>> {
    if (r.status !== 'starting' || !(await withdrawQueued(this.db, r.id, rfc3339()))) return this.rows.requestStop(r, reason, stoppedBy);
    const asked = await this.rows.requestStop(r, reason, stoppedBy);
    const message = `stop requested while the ${this.kind.noun} waited for a free recorder`;
    return (await this.close(r.id, [], this.nothingCaptured({ errorType: 'BEAM_STOPPED', errorMessage: message, stoppedAt: new Date() }))) ?? asked;
  }

  /**
   * Why each of these jobs still reads `starting` while it waits for a free recorder (the API's `reason`): the
   * first queued jobs that fit the free recorders are about to be claimed and wait for nobody; the others wait.
   */
  async waitingReasons(rows: RowOf<T>[]): Promise<Map<string, string>> {
    const out = new Map<string, string>();
    if (!rows.some((r) => r.status === 'starting')) return out;
    const { recorderWorkers, recorderStartTimeoutSeconds: seconds, redisUrl } = this.deps.config;
    // a fleet's free capacity is its workers' to know: there every queued job waits for one of them
    const workers = redisUrl ? 'fleet' : recorderWorkers;
    const busy = await claimedJobCount(this.db);
    const waiting = (await queuedJobs(this.db)).slice(workers === 'fleet' ? 0 : Math.max(0, workers - busy));
    for (const r of rows) {
      const at = waiting.findIndex((q) => q.job_id === r.id);
      if (r.status !== 'starting' || at < 0) continue;
      const deadline = { at: new Date(Date.parse(r.created_at) + seconds * 1000).toISOString(), seconds };
      out.set(r.id, waitingReason(at + 1, waiting.length, workers, deadline));
    }
    return out;
  }

  /**
   * Fails this kind's jobs that have waited for a free recorder longer than RECORDER_START_TIMEOUT_SECONDS since
   * their start request: RECORDER_UNAVAILABLE, the failure event, no asset. Only a server that runs recorders
   * judges its capacity (RECORDER_WORKERS=0: the jobs are another machine's to take), and in a fleet
   * (REDIS_URL) every node does: the queue rows are shared and a worker's claim and the withdrawal are fenced.
   */
  async expireWaiting(nowMs = Date.now()): Promise<RowOf<T>[]> {
    const { recorderWorkers: workers, recorderStartTimeoutSeconds: seconds, redisUrl } = this.deps.config;
    const out: RowOf<T>[] = [];
    if (workers <= 0 && !redisUrl) return out;
    for (const q of await queuedJobs(this.db)) {
      if (q.kind !== this.kind.queue || q.attempts !== 0) continue;
      const r = await this.rows.get(q.job_id);
      if (!r || r.status !== 'starting' || Date.parse(r.created_at) + seconds * 1000 > nowMs) continue;
      // a recorder that took it meanwhile wins
      if (!(await withdrawQueued(this.db, r.id, rfc3339()))) continue;
      const capacity = redisUrl ? "no worker of the fleet took it" : `RECORDER_WORKERS=${workers}, all busy`;
      const message = `no recorder became free within ${seconds} s of the start request (${capacity})`;
      const closed = await this.close(r.id, [], this.nothingCaptured({ errorType: 'RECORDER_UNAVAILABLE', errorMessage: message, stoppedAt: new Date() }));
      if (closed) out.push(closed);
    }
    return out;
  }

  get(id: string): Promise<RowOf<T> | undefined> {
    return this.rows.get(id);
  }

  /** Moves a job's status if the move is allowed from where it is now; returns the row after, or null. */
  move(id: string, to: JobStatus, set: Partial<RowOf<T>> = {}): Promise<RowOf<T> | null> {
    return this.rows.move(id, to, set);
  }

  /** Seconds from the start request to the job running (the started event's start_delay). */
  protected startDelay(r: RowOf<T>, startedAt: Date): number {
    return Math.max(0, Math.round((startedAt.getTime() - Date.parse(r.created_at)) / 1000));
  }

  /**
   * Marks the job's local assets for upload when the room has its own store: then the success event waits for
   * the upload (it names the store's paths; domain/uploadEvents.ts sends it).
   */
  protected async forUpload<A extends AssetTable>(asset: A): Promise<A> {
    return this.deps.uploads.prepare(asset, asset.status === 'completed');
  }

  /**
   * Stores the job's assets (whatever was captured, also for a failed job), closes the job as completed or
   * failed, sends the kind's closing events, then starts the uploads — so a success event that follows an
   * upload never precedes the job's stopped event.
   */
  protected async close(id: string, assets: AssetTable[], ending: O): Promise<RowOf<T> | null> {
    const before = await this.rows.get(id);
    if (!before) return null;
    // an asset opened while recording (store/openAssets.ts) is updated in place
    await saveAssets(this.db, assets);
    const { after, failed, reason } = await closeJob(this.rows, before, ending);
    if (after) await this.closeEvents(before, after, reason, failed, ending);
    for (const a of assets) if (a.upload_state === 'pending') await this.deps.uploads.schedule(a.id);
    return after;
  }

  // ---- the supervisor's view (auto-stop, sessions) ----

  /** Jobs of this kind that are starting or running, in every room. */
  startingOrRunning(): Promise<RowOf<T>[]> {
    return this.rows.startingOrRunning();
  }

  /** Gives this kind's jobs of the room that have no session yet this one. */
  linkSession(roomId: string, sessionId: string): Promise<unknown> {
    return this.rows.linkSession(roomId, sessionId);
  }
}
