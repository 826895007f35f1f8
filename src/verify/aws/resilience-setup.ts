/** What the EKS resilience checks share: services under test, their callers, the victim pod, counter readings. */
import { DEFAULT_TRAFFIC_POLICY, type TrafficPolicy } from '../../config/traffic-policy.js';
import { MeshgwError } from '../../errors.js';
import type { ApiKeyRecord } from '../../gateway/spec.js';
import type { OrderLoadInput } from '../resilience/order-load.js';
import type { AwsResilienceContext, PodInfo } from './resilience-context.js';
import { ENVOY_FAULT_FILTER } from './pod-faults.js';
import { meshResilienceCounters } from './resilience-stats.js';

/** A logged-in shopper and the order rate (below the key's POST /orders limit, so a 429 never reads as a lost order). */
export interface AwsShopper {
  key: ApiKeyRecord;
  token: string;
  productId: string;
  rate: number;
}

export function namespaceOf(ctx: AwsResilienceContext): string {
  return ctx.config.mesh.namespace;
}

/** The backends an order passes through (users and products). */
export function backendsUnderTest(ctx: AwsResilienceContext): string[] {
  const services = ctx.config.services;
  return [...new Set(Object.values(services).flatMap((s) => s.backends))].filter((b) => b in services);
}

export function policyOf(ctx: AwsResilienceContext, service: string): TrafficPolicy {
  return ctx.config.services[service]?.trafficPolicy ?? DEFAULT_TRAFFIC_POLICY;
}

/** Services whose sidecars call `backend` (each Envoy counts its own calls). */
export function callersOf(ctx: AwsResilienceContext, backend: string): string[] {
  return Object.entries(ctx.config.services).flatMap(([name, s]) => (s.backends.includes(backend) ? [name] : []));
}

/** `GET stats` or `GET clusters` of every serving caller pod of `backend`. */
export async function readCallers(ctx: AwsResilienceContext, backend: string, path: 'stats' | 'clusters'): Promise<string[]> {
  const ns = namespaceOf(ctx);
  const pods = (await Promise.all(callersOf(ctx, backend).map((c) => ctx.cluster.podsOf(ns, c)))).flat().filter((p) => p.serving);
  return Promise.all(pods.map((p) => ctx.cluster.proxyAdmin(ns, p.name, path)));
}

/** The backend's resilience counters, summed over its callers, in the local report's names. */
export async function countersOf(ctx: AwsResilienceContext, backend: string): Promise<{ counters: Record<string, number>; present: boolean }> {
  return meshResilienceCounters(await readCallers(ctx, backend, 'stats'), backend, namespaceOf(ctx));
}

/** The pod faults go into or is deleted: the last serving one by name (the others keep serving). */
export async function victimPod(ctx: AwsResilienceContext, service: string): Promise<{ victim: PodInfo; all: PodInfo[] }> {
  const all = (await ctx.cluster.podsOf(namespaceOf(ctx), service)).filter((p) => p.serving);
  if (all.length < 2) {
    throw new MeshgwError(
      'CHECK_FAILED',
      `${service} has ${all.length} serving pod${all.length === 1 ? '' : 's'}; this check needs at least 2`,
      `Set services.${service}.replicas: 2 in meshgw.yaml and run \`meshgw deploy\`, then wait for \`kubectl -n ${namespaceOf(ctx)} get pods\` to show them Ready.`,
    );
  }
  return { victim: all[all.length - 1], all };
}

export function loadInput(s: AwsShopper, baseUrl: string, seconds: number, timeoutMs: number): OrderLoadInput {
  return { baseUrl, apiKey: s.key.value, token: s.token, productId: s.productId, rate: s.rate, seconds, timeoutMs };
}

/** Polls until every Deployment is back at its replicas, ready and available, or the deadline passes. */
export async function waitDeploymentsWhole(ctx: AwsResilienceContext, services: string[], deadlineMs: number): Promise<{ ok: true; ms: number } | { ok: false; short: string[] }> {
  const now = ctx.now ?? Date.now;
  const sleep = ctx.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  const started = now();
  for (;;) {
    const states = await Promise.all(services.map(async (s) => ({ s, d: await ctx.cluster.deployment(namespaceOf(ctx), s), pods: (await ctx.cluster.podsOf(namespaceOf(ctx), s)).filter((p) => p.serving).length })));
    const short = states.filter(({ d, pods }) => !d || d.ready < d.replicas || d.available < d.replicas || pods < d.replicas).map(({ s, d, pods }) => `${s} ${pods}/${d?.replicas ?? '?'} serving`);
    if (short.length === 0) return { ok: true, ms: now() - started };
    if (now() - started >= deadlineMs) return { ok: false, short };
    await sleep(ctx.pollMs);
  }
}

/** How long istiod may take to push the fault filter to the pods' sidecars. */
export const FAULT_PUSH_DEADLINE_MS = 60_000;

/**
 * Waits until every pod's own Envoy has the fault filter in its config (`GET config_dump` names
 * envoy.filters.http.fault): istiod pushes an EnvoyFilter within seconds, and load sent before that would
 * dilute what the check measures. Throws when the push does not arrive in time.
 */
export async function waitFaultInForce(ctx: AwsResilienceContext, pods: string[]): Promise<number> {
  const now = ctx.now ?? Date.now;
  const sleep = ctx.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  const started = now();
  const pending = new Set(pods);
  for (;;) {
    for (const pod of [...pending]) if ((await ctx.cluster.proxyAdmin(namespaceOf(ctx), pod, 'config_dump')).includes(ENVOY_FAULT_FILTER)) pending.delete(pod);
    if (pending.size === 0) return now() - started;
    if (now() - started >= FAULT_PUSH_DEADLINE_MS) {
      throw new MeshgwError(
        'CHECK_FAILED',
        `the fault filter did not reach ${[...pending].join(', ')} within ${FAULT_PUSH_DEADLINE_MS / 1000} s`,
        `Is istiod running and pushing? \`istioctl proxy-status -n ${namespaceOf(ctx)}\` shows each sidecar's sync state; \`kubectl -n ${namespaceOf(ctx)} get envoyfilter\` the filter.`,
      );
    }
    await sleep(ctx.pollMs);
  }
}
