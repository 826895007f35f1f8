/** What every resilience check shares: the services under test, a logged-in shopper, the load's rate. */
import { DEFAULT_TRAFFIC_POLICY, type TrafficPolicy } from '../../config/traffic-policy.js';
import { MeshgwError } from '../../errors.js';
import { openSession, type ShopSession } from '../auth/session.js';
import { ShopClient, standardKey } from '../auth/shop-client.js';
import { bindingLimit, orderLevels } from '../throttle/phase.js';
import type { ApiKeyRecord } from '../../gateway/spec.js';
import type { ResilienceContext, ResilienceOptions } from './context.js';
import { adminUrls, replicasOf, type Replica } from './replicas.js';
import { sumStats, type Stats } from './counters.js';
import type { OrderLoadInput } from './order-load.js';

/** The backends an order passes through (users and products): one replica of each is killed. */
export function backendsUnderTest(ctx: ResilienceContext): string[] {
  const services = ctx.endpoint.config.services;
  return [...new Set(Object.values(services).flatMap((s) => s.backends))].filter((b) => b in services);
}

export function policyOf(ctx: ResilienceContext, service: string): TrafficPolicy {
  return ctx.endpoint.config.services[service]?.trafficPolicy ?? DEFAULT_TRAFFIC_POLICY;
}

export interface Shopper {
  key: ApiKeyRecord;
  session: ShopSession;
  /** Orders per second: 100, or 90 % of the POST /orders limit of the key if that is lower (a 429 would read as a lost order). */
  rate: number;
}

/** The order load every check drives: the shopper's key, login and product at its rate, for `seconds`. */
export function orderLoadFor(ctx: ResilienceContext, s: Shopper, seconds: number, timeoutMs: number): OrderLoadInput {
  return { baseUrl: ctx.endpoint.baseUrl, apiKey: s.key.value, token: s.session.login.token, productId: s.session.productId, rate: s.rate, seconds, timeoutMs };
}

const shoppers = new WeakMap<ResilienceContext, Promise<Shopper>>();

export function shopper(ctx: ResilienceContext, opts: ResilienceOptions): Promise<Shopper> {
  let s = shoppers.get(ctx);
  if (!s) {
    s = (async () => {
      const key = standardKey(ctx.endpoint);
      if (!key) throw new MeshgwError('CHECK_FAILED', 'no API key is configured', 'Add a usage plan with an API key to meshgw.yaml (gateway.usagePlans).');
      const client = new ShopClient(ctx.endpoint.baseUrl);
      try {
        const session = await openSession(client, key.value);
        const limit = bindingLimit(orderLevels(ctx.endpoint.config.gateway, key)).rate;
        return { key, session, rate: Math.max(1, Math.min(opts.rate ?? 100, Math.floor(limit * 0.9))) };
      } finally {
        await client.close();
      }
    })();
    shoppers.set(ctx, s);
    s.catch(() => shoppers.delete(ctx));
  }
  return s;
}

/** Every sidecar's counters, added up. */
export async function meshStats(ctx: ResilienceContext): Promise<Stats> {
  const run = await ctx.readRun();
  return sumStats(await Promise.all(adminUrls(run).map((u) => ctx.admin.stats(u))));
}

/** The replica faults are injected into or killed: the last one (replica 1 keeps serving). */
export async function victim(ctx: ResilienceContext, service: string): Promise<{ victim: Replica; all: Replica[] }> {
  const all = replicasOf(await ctx.readRun(), service);
  if (all.length < 2) {
    throw new MeshgwError('CHECK_FAILED', `${service} runs ${all.length} replica${all.length === 1 ? '' : 's'}; this check needs at least 2`, `Set services.${service}.replicas: 2 in meshgw.yaml, then \`meshgw down && meshgw up\`.`);
  }
  return { victim: all[all.length - 1], all };
}

export interface Phases {
  killSeconds: number;
  faultSeconds: number;
  /** How long the killed replicas get to be healthy again. */
  recoveryMs: number;
  /** Orders sent first and not judged: a freshly started stack runs slow until V8 has compiled its hot paths. */
  warmupSeconds: number;
}

export function phases(opts: ResilienceOptions): Phases {
  return opts.quick ? { killSeconds: 5, faultSeconds: 3, recoveryMs: 20_000, warmupSeconds: 3 } : { killSeconds: 15, faultSeconds: 10, recoveryMs: 30_000, warmupSeconds: 5 };
}
