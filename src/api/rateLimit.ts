// Per-client-address token buckets for the public credential endpoints (room-code exchange, dashboard
// sign-in): a burst of `capacity` requests, then `refillPerMinute`; an empty bucket answers 429 with
// Retry-After. The client address is Fastify's req.ip, which follows X-Forwarded-For only with TRUST_PROXY.
import type { FastifyReply } from 'fastify';
import { ApiError } from './errors.js';

export interface BucketOptions {
  capacity: number;
  refillPerMinute: number;
  /** addresses tracked at once; idle full buckets are dropped first */
  maxKeys?: number;
}

interface Bucket {
  tokens: number;
  at: number;
}

export class TokenBuckets {
  private readonly buckets = new Map<string, Bucket>();
  private readonly perMs: number;

  constructor(private readonly opts: BucketOptions) {
    this.perMs = opts.refillPerMinute / 60_000;
  }

  private current(key: string, nowMs: number): Bucket {
    const b = this.buckets.get(key);
    if (!b) return { tokens: this.opts.capacity, at: nowMs };
    return { tokens: Math.min(this.opts.capacity, b.tokens + (nowMs - b.at) * this.perMs), at: nowMs };
  }

  /** Seconds until one token is available; 0 when one is there now. Takes nothing. */
  retryAfter(key: string, nowMs = Date.now()): number {
    const b = this.current(key, nowMs);
    return b.tokens >= 1 ? 0 : Math.max(1, Math.ceil((1 - b.tokens) / this.perMs / 1000));
  }

  /** Takes one token; returns 0, or the seconds to wait when there was none (nothing taken). */
  take(key: string, nowMs = Date.now()): number {
    const wait = this.retryAfter(key, nowMs);
    if (wait > 0) return wait;
    const b = this.current(key, nowMs);
    b.tokens -= 1;
    this.prune(nowMs);
    this.buckets.set(key, b);
    return 0;
  }

  /** addresses tracked now */
  get size(): number {
    return this.buckets.size;
  }

  /** Forgets a key (a successful sign-in starts afresh). */
  reset(key: string): void {
    this.buckets.delete(key);
  }

  private prune(nowMs: number): void {
    if (this.buckets.size < (this.opts.maxKeys ?? 10_000)) return;
    for (const [k, b] of this.buckets) {
      if (b.tokens + (nowMs - b.at) * this.perMs >= this.opts.capacity) this.buckets.delete(k);
    }
    // still full of active addresses: the oldest entries go (Map keeps insertion order)
    for (const k of this.buckets.keys()) {
      if (this.buckets.size < (this.opts.maxKeys ?? 10_000)) break;
      this.buckets.delete(k);
    }
  }
}

/** The API's 429: `{code, message, details}` and Retry-After in seconds. */
export function tooManyRequests(reply: FastifyReply, waitSeconds: number, message: string): ApiError {
  reply.header('retry-after', String(waitSeconds));
  return new ApiError(429, message, [`too many requests from this address: try again in ${waitSeconds} s`]);
}
