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
 */
export class QuotaCounter {
  private periodStart = Number.NaN;
  private used = 0;

  constructor(
    readonly limit: number,
    readonly period: QuotaPeriod,
  ) {}

  hasRoom(epochMs: number): boolean {
    this.roll(epochMs);
    return this.used < this.limit;
  }

  consume(epochMs: number): void {
    this.roll(epochMs);
    this.used++;
  }

  remaining(epochMs: number): number {
    this.roll(epochMs);
    return this.limit - this.used;
  }

  private roll(epochMs: number): void {
    const start = quotaPeriodStart(epochMs, this.period);
    if (start !== this.periodStart) {
      this.periodStart = start;
      this.used = 0;
    }
  }
}
