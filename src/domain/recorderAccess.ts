// Recorder tokens: the server mints one per job and join attempt (job claim, short lifetime: the page needs it
// only to join), and the SFU asks `recorderJoinDecision` whether a token may join hidden. A hidden join needs a
// job claim naming a live job of the same room; a token for the hidden recorder role without one (made by
// hand, even signed with the right secret) is refused, so nobody can listen in invisibly.
import type { Config } from '../config.js';
import type { Db } from '../store/db.js';
import { jobRoomAndStatus } from '../store/jobRows.js';
import { signRecorderToken, type RecorderJobKind, type VerifiedToken } from '../auth/tokens.js';
import { isHiddenRole, RECORDER_ROLE } from '../model/templates.js';

/** Statuses of a job whose recorder may (still) join; a paused job stays `running`. */
export const JOINABLE_JOB_STATUSES = ['starting', 'running', 'stopping'];
/** Browser start and page load, before the join timeout begins (recorder/browser.ts default). */
const BROWSER_LAUNCH_SECONDS = 30;
/** Clock skew and a slow machine. */
const TOKEN_SLACK_SECONDS = 180;

export type RecorderJoinDecision = { hidden: boolean; refused?: undefined } | { refused: string };

/**
 * Whether a verified app token joins hidden, visible, or not at all: a job claim joins hidden (its job must be
 * live, in the token's room); no claim joins as its role does, except the hidden recorder role, refused.
 */
export async function recorderJoinDecision(db: Db, token: Pick<VerifiedToken, 'room_id' | 'role' | 'job'>): Promise<RecorderJoinDecision> {
  const job = token.job;
  if (!job) return isHiddenRole(token.role ?? '') ? { refused: 'the recorder role only joins with a token the server minted for a recording or live stream' } : { hidden: false };
  const table = job.job_kind === 'recording' ? 'recordings' : 'live_streams';
  const row = await jobRoomAndStatus(db, table, job.job_id);
  if (!row || row.room_id !== token.room_id) return { refused: `recorder token for unknown ${job.job_kind} ${job.job_id} of this room` };
  if (!JOINABLE_JOB_STATUSES.includes(row.status)) return { refused: `recorder token for ${job.job_kind} ${job.job_id}, which is ${row.status}` };
  return { hidden: true };
}

/** What a hidden peer's role becomes: it receives as the role does and publishes nothing (no camera grab). */
export function hiddenPeerRole<R extends { publishParams: { allowed: unknown[] } }>(role: R): R {
  return { ...role, publishParams: { ...role.publishParams, allowed: [] } };
}

/** The role a recorder page joins as: the one its URL names (/preview/<room_id>/<role>), else the recorder role. */
export function recorderRoleOfUrl(u: URL): string {
  const m = /^\/preview\/[^/]+\/([^/]+)\/?$/.exec(u.pathname);
  if (!m) return RECORDER_ROLE;
  try {
    return decodeURIComponent(m[1]);
  } catch {
    return RECORDER_ROLE;
  }
}

export interface RecorderJobRef {
  id: string;
  kind: RecorderJobKind;
  roomId: string;
  meetingUrl: string;
}

/**
 * The URL a recorder opens for one join attempt: our own meeting page gets a fresh recorder token for the job
 * (valid for the launch plus the join timeout and some slack); other pages, or one that brings its own
 * auth_token, are opened as given.
 */
export async function recorderJoinUrl(config: Pick<Config, 'publicUrl' | 'recorderJoinTimeoutMs' | 'accessKey' | 'appSecret'>, job: RecorderJobRef): Promise<string> {
  const u = new URL(job.meetingUrl);
  const own = new URL(config.publicUrl);
  if (u.host !== own.host || u.searchParams.has('auth_token')) return u.toString();
  const ttl = Math.ceil(config.recorderJoinTimeoutMs / 1000) + BROWSER_LAUNCH_SECONDS + TOKEN_SLACK_SECONDS;
  const token = await signRecorderToken(
    { accessKey: config.accessKey, appSecret: config.appSecret },
    {
      room_id: job.roomId,
      role: recorderRoleOfUrl(u),
      user_id: `${job.kind === 'recording' ? 'beam' : 'hls'}-${job.id}`,
      job_id: job.id,
      job_kind: job.kind,
    },
    ttl,
  );
  u.searchParams.set('auth_token', token);
  return u.toString();
}
