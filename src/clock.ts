// The one source of time and ids, so tests can reason about them.
import { randomBytes, randomUUID } from 'node:crypto';

/** Current time; tests may shift it with setClockOffset. */
let offsetMs = 0;
export function now(): Date {
  return new Date(Date.now() + offsetMs);
}
export function setClockOffset(ms: number): void {
  offsetMs = ms;
}

/** RFC3339 UTC with milliseconds, the form every API timestamp takes. */
export function rfc3339(d: Date = now()): string {
  return d.toISOString();
}

// 24-hex ids like the reference's (Mongo ObjectId layout): 4-byte seconds, 5 random bytes per process,
// 3-byte counter. Ids made later sort after ids made earlier, which pagination relies on.
const processBytes = randomBytes(5).toString('hex');
let counter = randomBytes(3).readUIntBE(0, 3);
let lastSecond = 0;
export function objectId(at: Date = now()): string {
  const sec = Math.max(Math.floor(at.getTime() / 1000), lastSecond);
  lastSecond = sec;
  counter = (counter + 1) % 0xffffff;
  return sec.toString(16).padStart(8, '0') + processBytes + counter.toString(16).padStart(6, '0');
}

export function uuid(): string {
  return randomUUID();
}
