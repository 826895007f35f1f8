import type { GatewayConfig, ThrottleConfig } from '../config/schema.js';
import type { ApiKeyRecord } from './spec.js';
import { ApiMethodTable, type ApiMethod } from './api-methods.js';
import { QuotaCounter } from './quota.js';
import type { QuotaStore } from './quota-store.js';
import type { ThrottleLayer } from '../metrics/contract.js';
import { ACCOUNT_THROTTLE } from './throttle-levels.js';
import { admitAll, TokenBucket } from './token-bucket.js';

export type ThrottleVerdict = 'admitted' | 'throttled' | 'quota';

export interface GatewayThrottleOptions {
  /** The account-level limit; API Gateway's default unless a test needs a small one. */
  account?: ThrottleConfig;
  /** Where usage-plan quotas persist, so that a restart does not reset them; memory only without it. */
  quotaStore?: QuotaStore;
}

/**
 * All of the gateway's limits, as API Gateway applies them: per API key a bucket and a quota from
 * its usage plan, one bucket per method (the stage default, or the method's override), and one
 * account bucket above them all. The levels are the ones throttleLevelsFor names, so verify's
 * prediction models exactly this.
 */
export class GatewayThrottle {
  private readonly table: ApiMethodTable;
  private readonly account: TokenBucket;
  private readonly methods = new Map<ApiMethod, TokenBucket>();
  private readonly keyBuckets = new Map<string, TokenBucket>();
  private readonly quotas = new Map<string, QuotaCounter>();
  private readonly scratch: TokenBucket[] = [];
  private readonly store: QuotaStore | undefined;

  constructor(gateway: GatewayConfig, apiKeys: readonly ApiKeyRecord[], opts: GatewayThrottleOptions = {}) {
    this.table = new ApiMethodTable(gateway);
    const account = opts.account ?? ACCOUNT_THROTTLE;
    this.account = new TokenBucket(account.rate, account.burst);
    this.store = opts.quotaStore;
    for (const key of apiKeys) {
      const plan = gateway.usagePlans.find((p) => p.name === key.plan);
      if (!plan) continue;
      this.keyBuckets.set(key.id, new TokenBucket(plan.throttle.rate, plan.throttle.burst));
      if (!plan.quota) continue;
      const { limit, period } = plan.quota;
      this.quotas.set(key.id, this.store ? this.store.counter(key.id, limit, period) : new QuotaCounter(limit, period));
    }
  }

  /**
   * Quota first (API Gateway answers "Limit Exceeded" then), then every bucket at once; only an
   * admitted request takes tokens and counts against the quota. `path` must be one a route serves.
   */
  admit(method: string, path: string, keyId: string | undefined, nowMs: number, epochMs: number): ThrottleVerdict {
    const layer = this.decide(method, path, keyId, nowMs, epochMs);
    return layer === null ? 'admitted' : layer === 'quota' ? 'quota' : 'throttled';
  }

  /**
   * admit(), saying which layer refused: null when admitted, else 'quota', or the first bucket
   * without a token in API Gateway's order (the key's usage plan, the method, the account).
   */
  decide(method: string, path: string, keyId: string | undefined, nowMs: number, epochMs: number): ThrottleLayer | null {
    const quota = keyId === undefined ? undefined : this.quotas.get(keyId);
    if (quota && !quota.hasRoom(epochMs)) return 'quota';
    const buckets = this.scratch;
    buckets.length = 0;
    const keyBucket = keyId === undefined ? undefined : this.keyBuckets.get(keyId);
    if (keyBucket) buckets.push(keyBucket);
    buckets.push(this.methodBucket(this.table.resolve(method, path)));
    buckets.push(this.account);
    const refused = admitAll(buckets, nowMs);
    if (refused >= 0) return refused === buckets.length - 1 ? 'account' : buckets[refused] === keyBucket ? 'usagePlan' : 'method';
    quota?.consume(epochMs);
    return null;
  }

  /**
   * Right after admit() admitted a request of this key: a promise to await before forwarding it,
   * settled once the quota file counts it (rejected if that write failed), or undefined when the
   * file covers it already or nothing persists.
   */
  quotaRecorded(keyId: string | undefined): Promise<void> | undefined {
    if (keyId === undefined || !this.store) return undefined;
    const quota = this.quotas.get(keyId);
    return quota && this.store.cover(quota);
  }

  /** Each key's quota now: its limit and what is left of it in the current period (keys whose plan has a quota). */
  quotaRemaining(epochMs: number): { keyId: string; limit: number; remaining: number }[] {
    return [...this.quotas].map(([keyId, q]) => ({ keyId, limit: q.limit, remaining: q.remaining(epochMs) }));
  }

  private methodBucket(m: ApiMethod): TokenBucket {
    let bucket = this.methods.get(m);
    if (!bucket) this.methods.set(m, (bucket = new TokenBucket(m.rate, m.burst)));
    return bucket;
  }
}
