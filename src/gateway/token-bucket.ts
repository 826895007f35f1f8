/**
 * The gateway's runtime token bucket: starts full at `burst`, refills continuously at `rate`
 * tokens per second, never holds more than `burst`. Times are milliseconds on a monotonic clock.
 */
export class TokenBucket {
  readonly rate: number;
  readonly burst: number;
  private tokens: number;
  private lastMs: number | undefined;

  constructor(rate: number, burst: number) {
    this.rate = rate;
    this.burst = burst;
    this.tokens = burst;
  }

  /** Brings the bucket up to `nowMs` (a clock that went backwards adds nothing). */
  refill(nowMs: number): void {
    if (this.lastMs === undefined) {
      this.lastMs = nowMs;
      return;
    }
    const elapsed = nowMs - this.lastMs;
    if (elapsed <= 0) return;
    this.tokens = Math.min(this.burst, this.tokens + (elapsed * this.rate) / 1000);
    this.lastMs = nowMs;
  }

  /** Whether a whole token is there; call refill first. */
  hasToken(): boolean {
    return this.tokens >= 1;
  }

  take(): void {
    this.tokens -= 1;
  }

  available(nowMs: number): number {
    this.refill(nowMs);
    return this.tokens;
  }
}

/**
 * Admits a request only if every bucket has a token, and only then takes one from each: a
 * rejection by one level leaves the others untouched (API Gateway's usage-plan, method and
 * account limits all apply). Returns the index of the first bucket without a token, or -1 when admitted.
 */
export function admitAll(buckets: readonly TokenBucket[], nowMs: number): number {
  for (let i = 0; i < buckets.length; i++) buckets[i].refill(nowMs);
  for (let i = 0; i < buckets.length; i++) if (!buckets[i].hasToken()) return i;
  for (let i = 0; i < buckets.length; i++) buckets[i].take();
  return -1;
}
