// A recorder job's processes outlive a server that is SIGKILLed (each leads its own process group, and the
// exit safety net cannot run). The job writes their group ids into its work dir; whoever takes the job over
// stops them before building the asset: the encoder first and gently (it finishes its last MP4 fragment),
// then the rest.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export interface JobProcesses {
  encoders: number[];
  others: number[];
}

const FILE = 'processes.json';

export function recordJobProcesses(workDir: string, procs: JobProcesses): void {
  writeFileSync(join(workDir, FILE), JSON.stringify(procs));
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

/** Stops what a dead worker left running for this job; returns how many process groups it stopped. */
export async function stopLeftoverProcesses(workDir: string): Promise<number> {
  const file = join(workDir, FILE);
  if (!existsSync(file)) return 0;
  return stopProcesses(JSON.parse(readFileSync(file, 'utf8')) as JobProcesses);
}

/** Stops a capture's processes that are still ours: the encoder gently first, then the rest. */
export async function stopProcesses(procs: JobProcesses): Promise<number> {
  const encoders = procs.encoders.filter((p) => ours(p, ['ffmpeg']));
  const others = procs.others.filter((p) => ours(p, ['xvfb', 'pulseaudio', 'chromium', 'chrome']));
  for (const p of encoders) signalGroup(p, 'SIGINT');
  if (!(await gone(encoders, ['ffmpeg'], 5000))) for (const p of encoders) signalGroup(p, 'SIGKILL');
  for (const p of others) signalGroup(p, 'SIGTERM');
  if (!(await gone(others, ['xvfb', 'pulseaudio', 'chromium', 'chrome'], 3000))) for (const p of others) signalGroup(p, 'SIGKILL');
  return encoders.length + others.length;
}
