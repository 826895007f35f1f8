import type { GatewayConfig } from '../config/schema.js';

/** One throttling limit a request is subject to, named so buckets can be shared by id. */
export interface ThrottleLevel {
  /** "stage", "method:POST /orders" or "key:<key id>". */
  id: string;
  rate: number;
  burst: number;
}

export interface ThrottledRequest {
  method: string;
  /** The path after the stage, without the query string. */
  path: string;
  /** The authenticated API key's id and its usage plan, when the route requires a key. */
  keyId?: string;
  plan?: string;
}

/** The method throttle matching a request: same method, and the path itself or below it. */
export function methodThrottleFor(gateway: GatewayConfig, method: string, path: string): GatewayConfig['methodThrottles'][number] | undefined {
  let best: GatewayConfig['methodThrottles'][number] | undefined;
  for (const m of gateway.methodThrottles) {
    if (m.method !== method) continue;
    if (path !== m.path && !path.startsWith(m.path.endsWith('/') ? m.path : m.path + '/')) continue;
    if (!best || m.path.length > best.path.length) best = m;
  }
  return best;
}

/**
 * Every limit that applies to a request, from the widest to the narrowest: the stage default,
 * the method override, and the key's usage plan. The gateway and `verify throttle`'s prediction
 * both derive their levels here, so they cannot disagree on which limits apply.
 */
export function throttleLevelsFor(gateway: GatewayConfig, req: ThrottledRequest): ThrottleLevel[] {
  const levels: ThrottleLevel[] = [{ id: 'stage', rate: gateway.throttle.rate, burst: gateway.throttle.burst }];
  const m = methodThrottleFor(gateway, req.method, req.path);
  if (m) levels.push({ id: `method:${m.method} ${m.path}`, rate: m.rate, burst: m.burst });
  if (req.keyId !== undefined && req.plan !== undefined) {
    const plan = gateway.usagePlans.find((p) => p.name === req.plan);
    if (plan) levels.push({ id: `key:${req.keyId}`, rate: plan.throttle.rate, burst: plan.throttle.burst });
  }
  return levels;
}
