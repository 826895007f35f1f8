import type { GatewayConfig, ThrottleConfig } from '../config/schema.js';
import type { ThrottleLayer } from '../metrics/contract.js';
import { ApiMethodTable } from './api-methods.js';

/** One throttling limit a request is subject to, named so buckets can be shared by id. */
export interface ThrottleLevel {
  /** "key:<key id>", "method:POST /orders", "method:ANY /orders/{proxy+}" or "account". */
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

/**
 * API Gateway's account-level throttle: "By default, API Gateway limits the steady-state request
 * rate to 10,000 requests per second (rps). It limits the burst (that is, the maximum bucket
 * size) to 5,000 requests across all APIs within an AWS account" (developer guide, "Throttle
 * requests to your REST APIs", Account-level throttling per Region). It is a service quota, not
 * a template setting (it can be raised on request, and a few newer Regions start lower), so
 * meshgw.yaml does not carry it; the local gateway keeps one such bucket for all its traffic.
 */
export const ACCOUNT_THROTTLE: ThrottleConfig = { rate: 10_000, burst: 5_000 };

export const ACCOUNT_LEVEL_ID = 'account';

/**
 * Every limit that applies to a request, in the order API Gateway applies them: "1. Per-client
 * or per-method throttling limits that you set for an API stage in a usage plan; 2. Per-method
 * throttling limits that you set for an API stage; 3. Account-level throttling per Region"
 * (developer guide, "How throttling limit settings are applied in API Gateway").
 *
 * - The key's usage plan: "A throttling limit is a request rate limit that is applied to each
 *   API key that you add to the usage plan" — one bucket per key, whatever the method.
 * - The method: its own bucket at the stage default, or at its methodThrottles entry, which
 *   replaces (never stacks on) the default. There is no stage-wide bucket.
 * - The account: one bucket shared by everything.
 *
 * The gateway and `verify throttle`'s prediction both derive their levels here, so they cannot
 * disagree on which limits apply. Pass the table to reuse one across calls.
 */
export function throttleLevelsFor(
  gateway: GatewayConfig,
  req: ThrottledRequest,
  opts: { table?: ApiMethodTable; account?: ThrottleConfig } = {},
): ThrottleLevel[] {
  const levels: ThrottleLevel[] = [];
  if (req.keyId !== undefined && req.plan !== undefined) {
    const plan = gateway.usagePlans.find((p) => p.name === req.plan);
    if (plan) levels.push({ id: `key:${req.keyId}`, rate: plan.throttle.rate, burst: plan.throttle.burst });
  }
  const m = (opts.table ?? new ApiMethodTable(gateway)).resolve(req.method, req.path);
  levels.push({ id: `method:${m.id}`, rate: m.rate, burst: m.burst });
  const account = opts.account ?? ACCOUNT_THROTTLE;
  levels.push({ id: ACCOUNT_LEVEL_ID, rate: account.rate, burst: account.burst });
  return levels;
}

/** The layer a level belongs to, as the access log's throttleLayer and the throttled metric name it: key:* is the usage plan's, method:* the method's. */
export function throttleLayerOf(levelId: string): Exclude<ThrottleLayer, 'quota'> {
  if (levelId === ACCOUNT_LEVEL_ID) return 'account';
  if (levelId.startsWith('key:')) return 'usagePlan';
  if (levelId.startsWith('method:')) return 'method';
  throw new Error(`not a throttle level id: ${levelId}`);
}
