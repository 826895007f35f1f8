/**
 * The gateway's own throttling metric (contract.ts GATEWAY_THROTTLED_METRIC): every 429 it
 * answers, by the API Gateway layer that refused it.
 */
import { Counter, Gauge, type Registry } from 'prom-client';
import { GATEWAY_THROTTLED_LABELS, GATEWAY_THROTTLED_METRIC, type ThrottleLayer } from './contract.js';

/** api_key_id of a request that carried no key (a route that requires none). */
export const NO_API_KEY = 'none';

export class GatewayThrottleMetrics {
  readonly #counter: Counter<(typeof GATEWAY_THROTTLED_LABELS)[number]>;
  readonly #children = new Map<string, { inc(): void }>();

  constructor(registry: Registry) {
    this.#counter = new Counter({
      name: GATEWAY_THROTTLED_METRIC,
      help: 'Requests the gateway answered 429, by the layer that refused them (account, method, usagePlan, quota).',
      labelNames: [...GATEWAY_THROTTLED_LABELS],
      registers: [registry],
    });
  }

  /** Counts one refusal; the label object of each (layer, resource, method, key) is built once. */
  throttled(layer: ThrottleLayer, resource: string, httpMethod: string, apiKeyId: string | null): void {
    const key = `${layer} ${resource} ${httpMethod} ${apiKeyId ?? ''}`;
    let child = this.#children.get(key);
    if (!child) {
      child = this.#counter.labels({ layer, resource, http_method: httpMethod, api_key_id: apiKeyId ?? NO_API_KEY });
      this.#children.set(key, child);
    }
    child.inc();
  }
}

/** A gauge of each API key's usage-plan quota left in the current period (meshgw's own; API Gateway shows it in GetUsage). */
export const GATEWAY_QUOTA_REMAINING_METRIC = 'meshgw_gateway_quota_remaining';

/** Registers the quota gauge, read from `read` at each scrape. */
export function registerQuotaGauge(registry: Registry, read: () => { keyId: string; plan: string; remaining: number }[]): void {
  new Gauge({
    name: GATEWAY_QUOTA_REMAINING_METRIC,
    help: "Requests left in the current quota period of each API key's usage plan.",
    labelNames: ['api_key_id', 'usage_plan'],
    registers: [registry],
    collect() {
      this.reset();
      for (const q of read()) this.set({ api_key_id: q.keyId, usage_plan: q.plan }, Math.max(0, q.remaining));
    },
  });
}
