// The data disk (DATA_DIR: assets, recorder work files and, by default, the SQLite database): how much room is
// left, whether a job may start (room for its bitrate cap × DISK_START_MIN_SECONDS beyond DISK_MIN_FREE_MB),
// whether a running recording must end (below DISK_MIN_FREE_MB), what /healthz reports, and a reserve file
// deleted when the disk fills so the database can still record how jobs ended (made again once space is back).
import { closeSync, existsSync, openSync, renameSync, rmSync, statfsSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import type { Config } from '../config.js';
import type { Logger } from '../logger.js';

const MB = 1024 * 1024;
const WATCH_MS = 1000;
/** below this the disk counts as full: the reserve goes so that database writes can go on */
const FULL_BELOW = MB;
export const RESERVE_FILE = 'disk-reserve';

/** A write that failed because the disk (or SQLite's file on it) is full. */
export function isDiskFull(err: unknown): boolean {
  const e = err as { code?: unknown; message?: unknown } | null;
  if (!e) return false;
  if (e.code === 'ENOSPC' || e.code === 'SQLITE_FULL' || e.code === '53100') return true;
  return typeof e.message === 'string' && isDiskFullText(e.message);
}

/** A process's message (ffmpeg's stderr, an exit reason) that says the disk is full. */
export function isDiskFullText(text: string): boolean {
  return /No space left on device|ENOSPC|database or disk is full/i.test(text);
}

const mb = (bytes: number) => `${Math.floor(bytes / MB)} MB`;

export type DiskDeps = { config: Pick<Config, 'dataDir' | 'diskMinFreeBytes' | 'diskReserveBytes' | 'diskStartSeconds'>; log: Logger };

export class DiskSpace {
  private timer: NodeJS.Timeout | null = null;
  private readonly reserve: string;

  constructor(private readonly deps: DiskDeps) {
    this.reserve = join(deps.config.dataDir, RESERVE_FILE);
  }

  start(): void {
    this.watch();
    this.timer = setInterval(() => this.watch(), WATCH_MS);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  /** Bytes an unprivileged writer may still use on the data disk. */
  freeBytes(): number {
    const s = statfsSync(this.deps.config.dataDir);
    return s.bavail * s.bsize;
  }

  /** Bytes a start must find beyond the floor: `kbps` (the job's cap) for DISK_START_MIN_SECONDS. */
  startBytes(kbps: number): number {
    return Math.ceil((kbps * 1000 * this.deps.config.diskStartSeconds) / 8);
  }

  /** Why a job of `kbps` may not start now (each a sentence), or null when there is room. */
  startRefusal(kbps: number): string[] | null {
    const free = this.freeBytes();
    const need = this.startBytes(kbps) + this.deps.config.diskMinFreeBytes;
    if (free >= need) return null;
    const { dataDir, diskStartSeconds, diskMinFreeBytes } = this.deps.config;
    return [
      `the data disk (DATA_DIR ${dataDir}) has ${mb(free)} free; a start needs ${mb(need)}: ${kbps} kbit/s for ${diskStartSeconds} s (DISK_START_MIN_SECONDS) plus ${mb(diskMinFreeBytes)} (DISK_MIN_FREE_MB)`,
    ];
  }

  /** Why a running recording must end now (the disk is below its floor), or null. */
  fullReason(): string | null {
    const free = this.freeBytes();
    if (free >= this.deps.config.diskMinFreeBytes) return null;
    return `the data disk is full: DATA_DIR ${this.deps.config.dataDir} has ${mb(free)} free, less than DISK_MIN_FREE_MB (${mb(this.deps.config.diskMinFreeBytes)})`;
  }

  /** /healthz: degraded while a default recording (`kbps`) could not start for space. */
  health(kbps: number): { status: 'ok' } | { status: 'degraded'; problems: string[] } {
    const problems = this.startRefusal(kbps);
    return problems ? { status: 'degraded', problems } : { status: 'ok' };
  }

  /** Deletes the reserve (the disk is full): the database and the closing of jobs get its room. */
  releaseReserve(why: string): void {
    if (!existsSync(this.reserve)) return;
    rmSync(this.reserve, { force: true });
    this.deps.log.warn({ why, freeBytes: this.freeBytes() }, 'data disk full: the disk reserve was released');
  }

  /**
   * Runs a write until it succeeds: a write that fails for space releases the reserve and is tried again every
   * second while `giveUp()` is false (then its error is thrown). Other errors are thrown at once.
   */
  async retryWhileFull<T>(what: string, write: () => Promise<T>, giveUp: () => boolean): Promise<T> {
    let warnedAt = 0;
    for (;;) {
      try {
        return await write();
      } catch (err) {
        if (!isDiskFull(err) || giveUp()) throw err;
        this.releaseReserve(what);
        if (Date.now() - warnedAt > 30_000) {
          warnedAt = Date.now();
          this.deps.log.warn({ what }, 'data disk full: the write is tried again every second until there is room');
        }
        await new Promise((r) => setTimeout(r, WATCH_MS));
      }
    }
  }

  /** The reserve goes when the disk is full, and comes back when it fits above the floor again. */
  private watch(): void {
    try {
      const free = this.freeBytes();
      const { diskReserveBytes, diskMinFreeBytes } = this.deps.config;
      if (free < FULL_BELOW) this.releaseReserve(`${free} bytes free`);
      else if (diskReserveBytes > 0 && !existsSync(this.reserve) && free - diskReserveBytes >= diskMinFreeBytes) this.makeReserve(diskReserveBytes);
    } catch (err) {
      this.deps.log.warn({ err }, 'could not check the data disk');
    }
  }

  private makeReserve(bytes: number): void {
    const tmp = `${this.reserve}.tmp`;
    const chunk = Buffer.alloc(MB);
    const fd = openSync(tmp, 'w', 0o600);
    try {
      // written, not sparse: the blocks must really be taken to be given back later
      for (let left = bytes; left > 0; left -= chunk.length) writeSync(fd, chunk, 0, Math.min(left, chunk.length));
    } catch (err) {
      closeSync(fd);
      rmSync(tmp, { force: true });
      throw err;
    }
    closeSync(fd);
    // renamed when whole: a reserve is never half there
    renameSync(tmp, this.reserve);
  }
}
