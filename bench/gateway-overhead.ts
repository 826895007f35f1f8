/** 1. GET /products: direct to the app, through the meshgw gateway, and through nginx. */
import type { GatewayConfig } from '../src/config/schema.js';
import type { ApiKeyRecord, GatewaySpec } from '../src/gateway/spec.js';
import { runClosedLoop, type ClosedLoopResult } from './closed-loop.js';
import { ratio, round } from './stats.js';
import { startGateway, startService } from './workloads.js';

export interface LoadShape {
  concurrency: number;
  count: number;
  durationMs: number;
  warmupCount: number;
}

export interface GatewayOverhead {
  direct: ClosedLoopResult;
  /** No key, limits that never bind: the router, trace ids, access log and the proxying itself. */
  gateway: ClosedLoopResult;
  /** Every feature on the path: API key lookup, usage plan, stage, method and plan throttles and quota, trace, access log. */
  gatewayAllFeatures: ClosedLoopResult;
  nginx?: ClosedLoopResult;
  nginxSkipped?: string;
  ratios: { gatewayP50: number; gatewayP99: number; gatewayRps: number; allFeaturesP50: number; allFeaturesRps: number; nginxP50?: number; nginxP99?: number; nginxRps?: number };
  /** Milliseconds added to the direct p50. */
  addedP50Ms: { gateway: number; gatewayAllFeatures: number; nginx?: number };
}

const BENCH_KEY: ApiKeyRecord = { id: 'benchkey01', name: 'bench', plan: 'standard', value: 'bench-api-key-0123456789abcdefghij' };
const NEVER = { rate: 1e9, burst: 1e9 };

/**
 * The route requires an API key of the "standard" plan, and every throttle level of the config
 * (stage, method, plan) and the plan's quota are evaluated on every request, with limits raised
 * so that none binds: the gateway does all its per-request work, and every request is proxied.
 */
export function allFeaturesSpec(base: GatewayConfig, upstreamPort: number): { spec: GatewaySpec; apiKey: string } {
  const spec = passThroughSpec(base, upstreamPort);
  spec.gateway = {
    ...base,
    throttle: NEVER,
    methodThrottles: [...base.methodThrottles.map((m) => ({ ...m, ...NEVER })), { method: 'GET', path: '/products', ...NEVER }],
    usagePlans: base.usagePlans.map((p) => ({ ...p, throttle: NEVER, quota: p.quota && { ...p.quota, limit: 1e12 }, apiKeys: p.name === BENCH_KEY.plan ? [BENCH_KEY.name] : p.apiKeys })),
  };
  spec.routes = spec.routes.map((r) => ({ ...r, requireApiKey: true }));
  spec.apiKeys = [BENCH_KEY];
  return { spec, apiKey: BENCH_KEY.value };
}

/** A gateway spec with one plain-http route to products, no key, limits that never bind. */
export function passThroughSpec(base: GatewayConfig, upstreamPort: number, throttle = { rate: 1e9, burst: 1e9 }): GatewaySpec {
  const gateway: GatewayConfig = { ...base, throttle, methodThrottles: [], usagePlans: [] };
  return {
    kind: 'gateway',
    host: '127.0.0.1',
    port: 0,
    stage: gateway.stage,
    gateway,
    routes: [{ service: 'products', pathPrefix: '/products', requireApiKey: false, upstream: { origin: `http://127.0.0.1:${upstreamPort}`, expectedSpiffeId: 'spiffe://cluster.local/ns/meshgw/sa/products' } }],
    apiKeys: [],
    tls: { caFile: '/nonexistent/ca.crt', certFile: '/nonexistent/tls.crt', keyFile: '/nonexistent/tls.key' },
    spiffeId: 'spiffe://cluster.local/ns/meshgw/sa/gateway',
  };
}

export async function measureGatewayOverhead(base: GatewayConfig, dir: string, shape: LoadShape, nginx: (upstreamPort: number) => Promise<{ port: number; stop(): Promise<void> } | string>): Promise<GatewayOverhead> {
  const app = await startService('products', dir);
  try {
    const gw = await startGateway(passThroughSpec(base, app.port), dir);
    const load = (origin: string, p: string) => runClosedLoop({ origin, path: p, ...shape });
    const direct = await load(`http://127.0.0.1:${app.port}`, '/products');
    const gateway = await load(`http://127.0.0.1:${gw.port}`, `/${base.stage}/products`);
    await gw.proc.stop();
    const all = allFeaturesSpec(base, app.port);
    const gwAll = await startGateway(all.spec, dir, 'gateway-all-features');
    const gatewayAllFeatures = await runClosedLoop({ origin: `http://127.0.0.1:${gwAll.port}`, path: `/${base.stage}/products`, headers: { 'x-api-key': all.apiKey }, ...shape });
    await gwAll.proc.stop();
    const ng = await nginx(app.port);
    let nginxResult: ClosedLoopResult | undefined;
    if (typeof ng !== 'string') {
      try {
        nginxResult = await load(`http://127.0.0.1:${ng.port}`, `/${base.stage}/products`);
      } finally {
        await ng.stop();
      }
    }
    return {
      direct,
      gateway,
      gatewayAllFeatures,
      nginx: nginxResult,
      nginxSkipped: typeof ng === 'string' ? ng : undefined,
      ratios: {
        gatewayP50: ratio(gateway.p50Ms, direct.p50Ms),
        gatewayP99: ratio(gateway.p99Ms, direct.p99Ms),
        gatewayRps: ratio(gateway.rps, direct.rps),
        allFeaturesP50: ratio(gatewayAllFeatures.p50Ms, direct.p50Ms),
        allFeaturesRps: ratio(gatewayAllFeatures.rps, direct.rps),
        nginxP50: nginxResult && ratio(nginxResult.p50Ms, direct.p50Ms),
        nginxP99: nginxResult && ratio(nginxResult.p99Ms, direct.p99Ms),
        nginxRps: nginxResult && ratio(nginxResult.rps, direct.rps),
      },
      addedP50Ms: {
        gateway: round(gateway.p50Ms - direct.p50Ms, 3),
        gatewayAllFeatures: round(gatewayAllFeatures.p50Ms - direct.p50Ms, 3),
        nginx: nginxResult && round(nginxResult.p50Ms - direct.p50Ms, 3),
      },
    };
  } finally {
    await app.proc.stop();
  }
}
