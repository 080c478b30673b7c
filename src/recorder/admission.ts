// Admission by measured cost, not by count (LiveKit Egress's model): each job kind costs the CPU it was measured
// to use on this kind of machine, and a recorder machine takes a job only while its predicted load — the jobs it
// runs plus the new one, over its cores — stays under MAX_CPU_UTILIZATION. RECORDER_WORKERS still caps the count.
// An idle machine takes any job: one costlier than the whole machine could otherwise never run anywhere.
import type { JobKind } from '../jobs/queue.js';

/**
 * CPU cores one job uses, measured with `npm run bench -- capture` on this 2-core machine kind (2026-12-03; one
 * 720p30 capture of a moving page, ffmpeg + Chromium + Xvfb/PulseAudio): composite MP4 0.31 + 0.31 + 0.12 =
 * 0.74; a live stream's HLS ladder (720p, 480p, 360p from one capture) 0.55 + 0.26 + 0.10 = 0.91. Rounded up.
 */
export const JOB_COST_CORES: Record<JobKind, number> = { recording: 0.75, 'live-stream': 0.95 };
/**
 * A composite larger than 720p: the encoder's extra work, measured the same way in one run (2026-12-03):
 * 1080p ffmpeg 0.41 against 0.24 core at 720p, Chromium and Xvfb/pulse unchanged: 0.74 + 0.17, rounded up.
 */
export const LARGE_COMPOSITE_COST_CORES = 0.95;

/** A job's cost: by its kind, and for a composite by its size. */
export function jobCostCores(kind: JobKind, size?: { width: number; height: number }): number {
  return kind === 'recording' && size && size.width * size.height > 1280 * 720 ? LARGE_COMPOSITE_COST_CORES : JOB_COST_CORES[kind];
}

export interface AdmissionOptions {
  cores: number;
  /** MAX_CPU_UTILIZATION: the predicted load a machine may take on, as a share of its cores */
  maxUtilization: number;
  /** RECORDER_WORKERS: at most this many jobs at once */
  maxJobs: number;
  costs?: Record<JobKind, number>;
}

export class Admission {
  private readonly costs: Record<JobKind, number>;

  constructor(private readonly opts: AdmissionOptions) {
    this.costs = opts.costs ?? JOB_COST_CORES;
  }

  private used(running: number[]): number {
    return running.reduce((t, c) => t + c, 0);
  }

  /** The least a job of the kind costs (its size may make it more: jobCostCores). */
  costOfKind(kind: JobKind): number {
    return this.costs[kind];
  }

  /** Whether a job costing `cost` fits beside jobs costing `running` (an idle machine takes any job). */
  fits(running: number[], cost: number): boolean {
    if (running.length >= this.opts.maxJobs) return false;
    return running.length === 0 || this.used(running) + cost <= this.opts.cores * this.opts.maxUtilization + 1e-9;
  }

  /** The kinds of job a machine running jobs of costs `running` may take now, of those it serves (by their least cost). */
  kindsThatFit(running: number[], serves: JobKind[]): JobKind[] {
    return serves.filter((k) => this.fits(running, this.costs[k]));
  }

  /** Cores still free under the limit (/metrics). */
  freeCores(running: number[]): number {
    return Math.max(0, this.opts.cores * this.opts.maxUtilization - this.used(running));
  }
}
