// What every output kind's finalise step gets and gives: the finished job, its capture's files and paused
// spans in; asset drafts (rows not yet stored, with the URL the webhook names) out. Shared helpers too.
import type { Config } from '../../config.js';
import type { Db } from '../../store/db.js';
import type { LocalStorage } from '../../storage/local.js';
import type { AssetTable } from '../../store/schema.js';
import type { MediaTools } from '../mediaTools.js';
import type { JobSpec } from '../jobSpec.js';
import { objectId, rfc3339 } from '../../clock.js';
import { toJson } from '../../store/db.js';

/** A span of the job during which its recording was paused (epoch ms; `to` null while open). */
export interface PausedSpan {
  from: number;
  to: number | null;
}

/** The job row's fields an output needs to name and describe its assets. */
export interface FinishedJob {
  id: string;
  room_id: string;
  session_id: string;
  created_at: string;
  started_at: string | null;
}

/** What outputs store their files with (the worker passes its own). */
export interface OutputDeps {
  localStorage: LocalStorage;
  /** the workspace: asset keys start with it */
  customerId: string;
  config: Pick<Config, 'appSecret' | 'publicUrl'>;
  db: Db;
}

export interface FinaliseInput {
  ctx: OutputDeps;
  media: MediaTools;
  spec: JobSpec;
  job: FinishedJob;
  /** the job's own scratch directory (MP4 segments per attempt, temporary files) */
  workDir: string;
  pauses: PausedSpan[];
  /** set when the job failed: its assets are marked partial with this reason */
  failure: string | null;
  /** lifetime of the URLs the success webhook names */
  presignSeconds: number;
}

/** An asset made by one output, before it is stored; `layer` for the per-layer files of a ladder. */
export interface AssetDraft {
  output: JobSpec['outputs'][number]['kind'];
  asset: AssetTable;
  presignedUrl: string | null;
  layer?: { index: number; width: number; height: number };
}

/** Epoch ms the job's assets are named after: when it started running (or was created, if it never did). */
export function startedMsOf(job: FinishedJob): number {
  return Date.parse(job.started_at ?? job.created_at);
}

/** An asset row for a file (or playlist) now in local storage under `key`. */
export function draftAsset(input: Pick<FinaliseInput, 'ctx' | 'job' | 'failure'>, type: string, key: string, size: number, seconds: number, metadata: Record<string, unknown>): AssetTable {
  const { ctx, job, failure } = input;
  return {
    id: objectId(),
    job_id: job.id,
    room_id: job.room_id,
    session_id: job.session_id,
    type,
    status: 'completed',
    path: ctx.localStorage.pathOf(key),
    storage: 'local',
    storage_key: key,
    size,
    duration: Math.round(seconds),
    metadata: toJson({ ...metadata, ...(failure !== null ? { partial: true, reason: failure } : {}) }),
    thumbnails: null,
    error_message: failure,
    created_at: rfc3339(),
    deleted_at: null,
  };
}
