/** Usage-plan quota periods, as API Gateway names them; periods are calendar UTC periods. */
export type QuotaPeriod = 'DAY' | 'WEEK' | 'MONTH';

const DAY_MS = 86_400_000;

/** Start (epoch ms) of the UTC day, ISO week (Monday) or month holding `epochMs`. */
export function quotaPeriodStart(epochMs: number, period: QuotaPeriod): number {
  const d = new Date(epochMs);
  const dayStart = Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate());
  if (period === 'DAY') return dayStart;
  if (period === 'MONTH') return Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), 1);
  const daysSinceMonday = (d.getUTCDay() + 6) % 7;
  return dayStart - daysSinceMonday * DAY_MS;
}

/**
 * Requests one API key may make in the current period. `hasRoom` and `consume` are separate so
 * that a request refused by a throttle does not use quota.
 *
 * A counter backed by the quota file (quota-store.ts) also tracks how much of the period is on
 * disk: `durable` requests are covered by what the file records, `reserved` is what the next write
 * will record. A request counted beyond `durable` must wait for that write before it is forwarded.
 * A counter without a store keeps `durable` at Infinity: memory only, nothing to wait for.
 */
export class QuotaCounter {
  /** -Infinity until first used or restored; never moves backwards (see roll). */
  periodStart = Number.NEGATIVE_INFINITY;
  used = 0;
  durable: number;
  reserved = 0;
  /** What the write in flight records for this period (≤ reserved); meaningful only while one is. */
  writing = 0;

  constructor(
    readonly limit: number,
    readonly period: QuotaPeriod,
    readonly persisted = false,
  ) {
    this.durable = persisted ? 0 : Number.POSITIVE_INFINITY;
  }

  hasRoom(epochMs: number): boolean {
    this.roll(epochMs);
    return this.used < this.limit;
  }

  /** Counts one admitted request; true when the quota file already covers it. */
  consume(epochMs: number): boolean {
    this.roll(epochMs);
    return ++this.used <= this.durable;
  }

  remaining(epochMs: number): number {
    this.roll(epochMs);
    return this.limit - this.used;
  }

  /** Takes up a period's count read back from the quota file: all of it counts as used. */
  restore(periodStart: number, used: number): void {
    this.periodStart = periodStart;
    this.used = this.reserved = this.writing = this.durable = used;
  }

  private roll(epochMs: number): void {
    const start = quotaPeriodStart(epochMs, this.period);
    // Only forwards: a wall clock stepped back (NTP) keeps counting into the period already
    // recorded rather than reopening an earlier one with a fresh allowance.
    if (start > this.periodStart) {
      this.periodStart = start;
      this.used = this.reserved = this.writing = 0;
      if (this.persisted) this.durable = 0;
    }
  }
}
