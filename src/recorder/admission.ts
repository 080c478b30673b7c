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

  private used(running: JobKind[]): number {
    return running.reduce((t, k) => t + this.costs[k], 0);
  }

  /** The kinds of job a machine running `running` may take now, of those it serves. */
  kindsThatFit(running: JobKind[], serves: JobKind[]): JobKind[] {
    if (running.length >= this.opts.maxJobs) return [];
    if (running.length === 0) return serves;
    const budget = this.opts.cores * this.opts.maxUtilization;
    const used = this.used(running);
    return serves.filter((k) => used + this.costs[k] <= budget + 1e-9);
  }

  /** Cores still free under the limit (/metrics). */
  freeCores(running: JobKind[]): number {
    return Math.max(0, this.opts.cores * this.opts.maxUtilization - this.used(running));
  }
}
