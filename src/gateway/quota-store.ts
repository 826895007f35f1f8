/**
 * Usage-plan quota counters that survive the gateway: API Gateway's quotas survive anything, and a
 * restarted local gateway must not hand out a fresh allowance (issue 14: 150 requests admitted in
 * 3 minutes against 50 a day).
 *
 * Write-ahead with reservations. A request is forwarded only once the file counts it, so a SIGKILL
 * at any moment can never have let through more than the file records. Writing the file for every
 * request would put an fsync (about a millisecond or more) in front of each one, so each write
 * reserves a block: it records `used + block - 1`, and the next block - 1 requests pass with no I/O
 * at all. A crash forfeits what was reserved but not used (at most 1% of the period's limit, and
 * never more than MAX_RESERVATION_BLOCK requests): conservative, never generous. A clean stop
 * (close) writes the exact count back. Requests that need a write while one is in flight share the
 * next one (group commit), so a burst costs one or two writes, not one per request.
 */
import { z } from 'zod';
import { MeshgwError } from '../errors.js';
import { QuotaCounter, quotaPeriodStart, type QuotaPeriod } from './quota.js';
import type { QuotaFile } from './quota-file.js';

/** A crash may forfeit at most this share of a period's limit... */
const RESERVATION_FRACTION = 0.01;
/** ...and at most this many requests, however large the limit. */
const MAX_RESERVATION_BLOCK = 1000;

/** Requests recorded per write: 1 (a write per request) for limits under 200. */
export function reservationBlock(limit: number): number {
  return Math.max(1, Math.min(MAX_RESERVATION_BLOCK, Math.floor(limit * RESERVATION_FRACTION)));
}

const FILE_KIND = 'meshgw-gateway-quotas';

const isoInstant = z.iso.datetime({ offset: false });
const storedCounterSchema = z.strictObject({
  period: z.enum(['DAY', 'WEEK', 'MONTH']),
  /** The UTC start of the period the count belongs to. */
  periodStart: isoInstant,
  /** Requests admitted or reserved in that period: an upper bound of those admitted. */
  used: z.number().int().nonnegative(),
});
const quotaFileSchema = z.strictObject({
  kind: z.literal(FILE_KIND),
  version: z.literal(1),
  counters: z.record(z.string(), storedCounterSchema),
});
type StoredCounter = z.infer<typeof storedCounterSchema>;

export interface QuotaStoreOptions {
  /** Told when a write fails; the requests that waited on it are refused, not forwarded. */
  onWriteError?: (err: unknown) => void;
  /** Requests recorded per write for a limit; reservationBlock unless a test needs another. */
  block?: (limit: number) => number;
}

interface SnapshotEntry {
  counter: QuotaCounter;
  periodStart: number;
  used: number;
}

function noop(): void {}

function unusable(file: QuotaFile, why: string, cause?: unknown): MeshgwError {
  return new MeshgwError(
    'STATE_MISSING',
    `the quota file ${file.path} ${why}`,
    `It was changed outside meshgw. Usage-plan quotas are counted in it, so the gateway will not start and guess: restore it, or delete it to start every key's quota from zero.`,
    { cause },
  );
}

function parseStored(file: QuotaFile, text: string): Map<string, StoredCounter> {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw unusable(file, 'is not valid JSON', err);
  }
  const parsed = quotaFileSchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw unusable(file, `is not a meshgw quota file (${issue.path.join('.') || 'top level'}: ${issue.message})`);
  }
  for (const [keyId, c] of Object.entries(parsed.data.counters)) {
    const start = Date.parse(c.periodStart);
    if (quotaPeriodStart(start, c.period) !== start) throw unusable(file, `records ${keyId}'s ${c.period} quota from ${c.periodStart}, which is not the start of a UTC ${c.period.toLowerCase()}`);
  }
  return new Map(Object.entries(parsed.data.counters));
}

/** The gateway's quota counters and the file that keeps them. */
export class QuotaStore {
  private readonly counters = new Map<string, QuotaCounter>();
  private inFlight: Promise<void> | undefined;
  private queued: Promise<void> | undefined;
  private closed = false;
  private readonly block: (limit: number) => number;

  private constructor(
    private readonly file: QuotaFile,
    private readonly stored: Map<string, StoredCounter>,
    private readonly opts: QuotaStoreOptions,
  ) {
    this.block = opts.block ?? reservationBlock;
  }

  /** Reads the file (none yet is an empty store); a corrupt or foreign one is a MeshgwError. */
  static async open(file: QuotaFile, opts: QuotaStoreOptions = {}): Promise<QuotaStore> {
    let text: string | undefined;
    try {
      text = await file.read();
    } catch (err) {
      throw unusable(file, `cannot be read (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`, err);
    }
    return new QuotaStore(file, text === undefined ? new Map() : parseStored(file, text), opts);
  }

  /**
   * The counter of one API key, holding what the file recorded for it. When the plan's period was
   * changed since, the count moves to the new period that holds the recorded one's start: it
   * carries on if that is the current period and starts from zero otherwise.
   */
  counter(keyId: string, limit: number, period: QuotaPeriod): QuotaCounter {
    const counter = new QuotaCounter(limit, period, true);
    const stored = this.stored.get(keyId);
    if (stored) counter.restore(quotaPeriodStart(Date.parse(stored.periodStart), period), stored.used);
    this.counters.set(keyId, counter);
    return counter;
  }

  /**
   * After the counter counted an admitted request: resolves once the file covers that count,
   * rejects if the write failed (the request must then not be forwarded); undefined when the file
   * covers it already, the hot path with no promise and no I/O.
   */
  cover(counter: QuotaCounter): Promise<void> | undefined {
    const n = counter.used;
    if (n <= counter.durable) return undefined;
    if (this.closed) return Promise.reject(new Error('the quota store is closed'));
    if (this.inFlight && n <= counter.writing) return this.inFlight;
    if (n > counter.reserved) counter.reserved = Math.min(counter.limit, n - 1 + this.block(counter.limit));
    return this.nextWrite();
  }

  /** Lets pending writes finish, then records the exact counts: a clean stop forfeits nothing. */
  async close(): Promise<void> {
    this.closed = true;
    await this.queued?.catch(noop);
    await this.inFlight?.catch(noop);
    let released = false;
    for (const c of this.counters.values()) {
      if (c.reserved > c.used) {
        c.reserved = c.used;
        released = true;
      }
    }
    if (released) await this.startWrite();
  }

  /** A write that starts after every count made so far: the queued one, or a new one. */
  private nextWrite(): Promise<void> {
    if (this.queued) return this.queued;
    const current = this.inFlight;
    if (!current) return this.startWrite();
    this.queued = current.then(noop, noop).then(() => {
      this.queued = undefined;
      return this.startWrite();
    });
    return this.queued;
  }

  private startWrite(): Promise<void> {
    const snapshot: SnapshotEntry[] = [];
    const counters: Record<string, StoredCounter> = {};
    for (const [keyId, c] of this.counters) {
      if (!Number.isFinite(c.periodStart)) continue;
      c.writing = c.reserved;
      snapshot.push({ counter: c, periodStart: c.periodStart, used: c.reserved });
      counters[keyId] = { period: c.period, periodStart: new Date(c.periodStart).toISOString(), used: c.reserved };
    }
    const text = JSON.stringify({ kind: FILE_KIND, version: 1, counters }) + '\n';
    const write = this.file.write(text).then(
      () => {
        // Writes finish in the order they started (one at a time), so the last one is the truth,
        // a release at close included. A counter that rolled into a new period meanwhile is not
        // covered by a count of the old one.
        for (const s of snapshot) if (s.counter.periodStart === s.periodStart) s.counter.durable = s.used;
      },
      (err: unknown) => {
        for (const s of snapshot) if (s.counter.periodStart === s.periodStart) s.counter.writing = s.counter.durable;
        this.opts.onWriteError?.(err);
        throw err;
      },
    );
    this.inFlight = write;
    const settle = () => {
      if (this.inFlight === write) this.inFlight = undefined;
    };
    write.then(settle, settle);
    return write;
  }
}
