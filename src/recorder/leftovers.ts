// A recorder job's processes outlive a server that is SIGKILLed (each leads its own process group, and the
// exit safety net cannot run). The job writes their group ids into its work dir, with a heartbeat while the
// server lives; whoever takes the job over stops them before building the asset (the encoder first and gently:
// it finishes its last MP4 fragment, then the rest) and cuts off what they filmed after the server died.
import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { cutSegment, mp4Segments } from './outputs/mp4File.js';

export interface JobProcesses {
  encoders: number[];
  others: number[];
}

/** What the server last saw of the capture: when, and since when the MP4 being written was there. */
export interface Heartbeat {
  /** epoch ms of the last beat */
  at: number;
  /** the newest MP4 segment (relative to the work dir), null when the job writes none (HLS) */
  segment: string | null;
  /**
   * epoch ms of the first beat that saw it written to: its first frame was filmed before that, and its frames
   * are stamped with the wall clock they were filmed at (x11grab, constant frame rate), however far the
   * encoder is behind; so the segment's second `at - segmentSince` was filmed before the last beat
   */
  segmentSince: number;
}

interface Recorded extends JobProcesses {
  heartbeat?: Heartbeat;
}

const FILE = 'processes.json';
/** after a takeover: when the server died, for outputs that leave out what came after (recorder/outputs) */
const GONE_FILE = 'server-gone.json';
/** the cut is at most about twice this early */
const HEARTBEAT_MS = 250;
const ENCODER_NAMES = ['ffmpeg'];
const OTHER_NAMES = ['xvfb', 'pulseaudio', 'chromium', 'chrome'];

interface Watch {
  procs: JobProcesses;
  beat: Heartbeat | null;
  timer: NodeJS.Timeout;
}
/** jobs of this process that have processes running, by work dir */
const watched = new Map<string, Watch>();

function writeRecord(workDir: string, w: Watch): void {
  const rec: Recorded = { ...w.procs, ...(w.beat ? { heartbeat: w.beat } : {}) };
  // written whole then renamed: a kill in the middle of a write must not leave half a file to the takeover
  const tmp = join(workDir, `${FILE}.tmp`);
  writeFileSync(tmp, JSON.stringify(rec));
  renameSync(tmp, join(workDir, FILE));
}

/**
 * Records a job's processes; while any of them runs (and its work dir is there), a heartbeat every 250 ms
 * notes the time and the MP4 being written. The last one tells a takeover when the server died.
 */
export function recordJobProcesses(workDir: string, procs: JobProcesses): void {
  let w = watched.get(workDir);
  if (!w) {
    const timer = setInterval(() => beat(workDir), HEARTBEAT_MS);
    timer.unref();
    w = { procs, beat: null, timer };
    watched.set(workDir, w);
  }
  w.procs = procs;
  beat(workDir);
}

function beat(workDir: string): void {
  const w = watched.get(workDir);
  if (!w) return;
  try {
    const alive = w.procs.encoders.some((p) => ours(p, ENCODER_NAMES)) || w.procs.others.some((p) => ours(p, OTHER_NAMES));
    if (!alive || !existsSync(workDir)) {
      clearInterval(w.timer);
      watched.delete(workDir);
      return;
    }
    const now = Date.now();
    const newest = mp4Segments(workDir).at(-1);
    const segment = newest ? relative(workDir, newest.file) : null;
    const prev = w.beat;
    w.beat = { at: now, segment, segmentSince: prev && prev.segment === segment ? prev.segmentSince : now };
    writeRecord(workDir, w);
  } catch {
    // the work dir went away between two steps (the job finished): the next beat stops
  }
}

/** Still running, and still the kind of program we started (a PID may have been reused). */
function ours(pid: number, names: string[]): boolean {
  try {
    const comm = readFileSync(`/proc/${pid}/comm`, 'utf8').trim().toLowerCase();
    return names.some((n) => comm.startsWith(n));
  } catch {
    return false;
  }
}

function signalGroup(pid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(-pid, sig);
  } catch {
    /* gone */
  }
}

async function gone(pids: number[], names: string[], ms: number): Promise<boolean> {
  const until = Date.now() + ms;
  while (Date.now() < until) {
    if (!pids.some((p) => ours(p, names))) return true;
    await new Promise((r) => setTimeout(r, 100));
  }
  return !pids.some((p) => ours(p, names));
}

export interface Takeover {
  /** process groups stopped */
  processes: number;
  /** epoch ms of the dead server's last heartbeat (null: it left none) */
  serverGoneAt: number | null;
  /** seconds the MP4 being written was cut to (null: nothing to cut) */
  cutAtSeconds: number | null;
}

/**
 * Stops what a dead worker left running for this job, and cuts the MP4 it was writing where the server died:
 * after that the meeting had no server, and the encoder filmed a frozen page.
 */
export async function stopLeftoverProcesses(workDir: string): Promise<Takeover> {
  const file = join(workDir, FILE);
  if (!existsSync(file)) return { processes: 0, serverGoneAt: null, cutAtSeconds: null };
  const rec = JSON.parse(readFileSync(file, 'utf8')) as Recorded;
  const processes = await stopProcesses(rec);
  const hb = rec.heartbeat;
  if (!hb) return { processes, serverGoneAt: null, cutAtSeconds: null };
  writeFileSync(join(workDir, GONE_FILE), JSON.stringify({ at: hb.at }));
  const segment = hb.segment ? join(workDir, hb.segment) : null;
  const cutAtSeconds = segment && existsSync(segment) ? await cutSegment(segment, (hb.at - hb.segmentSince) / 1000) : null;
  return { processes, serverGoneAt: hb.at, cutAtSeconds };
}

/** After a takeover: when the server died (epoch ms), or null. */
export function serverGoneAt(workDir: string): number | null {
  try {
    const at = (JSON.parse(readFileSync(join(workDir, GONE_FILE), 'utf8')) as { at?: unknown }).at;
    return typeof at === 'number' ? at : null;
  } catch {
    return null;
  }
}

/** Stops a capture's processes that are still ours: the encoder gently first, then the rest. */
export async function stopProcesses(procs: JobProcesses): Promise<number> {
  const encoders = procs.encoders.filter((p) => ours(p, ENCODER_NAMES));
  const others = procs.others.filter((p) => ours(p, OTHER_NAMES));
  for (const p of encoders) signalGroup(p, 'SIGINT');
  if (!(await gone(encoders, ENCODER_NAMES, 5000))) for (const p of encoders) signalGroup(p, 'SIGKILL');
  for (const p of others) signalGroup(p, 'SIGTERM');
  if (!(await gone(others, OTHER_NAMES, 3000))) for (const p of others) signalGroup(p, 'SIGKILL');
  return encoders.length + others.length;
}
