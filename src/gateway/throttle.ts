import type { GatewayConfig } from '../config/schema.js';
import type { ApiKeyRecord } from '../local/specs.js';
import { QuotaCounter } from './quota.js';
import { methodThrottleFor } from './throttle-levels.js';
import { admitAll, TokenBucket } from './token-bucket.js';

export type ThrottleVerdict = 'admitted' | 'throttled' | 'quota';

/**
 * All of the gateway's limits: one stage bucket, one bucket per method override, and per API key
 * a bucket and a quota from its usage plan. The levels that apply to a request are the ones
 * throttleLevelsFor names, so verify's prediction models exactly this.
 */
export class GatewayThrottle {
  private readonly stage: TokenBucket;
  private readonly methods = new Map<GatewayConfig['methodThrottles'][number], TokenBucket>();
  private readonly keyBuckets = new Map<string, TokenBucket>();
  private readonly quotas = new Map<string, QuotaCounter>();
  private readonly scratch: TokenBucket[] = [];

  constructor(
    private readonly gateway: GatewayConfig,
    apiKeys: readonly ApiKeyRecord[],
  ) {
    this.stage = new TokenBucket(gateway.throttle.rate, gateway.throttle.burst);
    for (const m of gateway.methodThrottles) this.methods.set(m, new TokenBucket(m.rate, m.burst));
    for (const key of apiKeys) {
      const plan = gateway.usagePlans.find((p) => p.name === key.plan);
      if (!plan) continue;
      this.keyBuckets.set(key.id, new TokenBucket(plan.throttle.rate, plan.throttle.burst));
      if (plan.quota) this.quotas.set(key.id, new QuotaCounter(plan.quota.limit, plan.quota.period));
    }
  }

  /**
   * Quota first (API Gateway answers "Limit Exceeded" then), then every bucket at once; only an
   * admitted request takes tokens and counts against the quota.
   */
  admit(method: string, path: string, keyId: string | undefined, nowMs: number, epochMs: number): ThrottleVerdict {
    const quota = keyId === undefined ? undefined : this.quotas.get(keyId);
    if (quota && !quota.hasRoom(epochMs)) return 'quota';
    const buckets = this.scratch;
    buckets.length = 0;
    buckets.push(this.stage);
    const m = methodThrottleFor(this.gateway, method, path);
    if (m) buckets.push(this.methods.get(m)!);
    const keyBucket = keyId === undefined ? undefined : this.keyBuckets.get(keyId);
    if (keyBucket) buckets.push(keyBucket);
    if (admitAll(buckets, nowMs) >= 0) return 'throttled';
    quota?.consume(epochMs);
    return 'admitted';
  }
}
