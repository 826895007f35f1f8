/** 1. GET /products: direct to the app, through the meshgw gateway, and through nginx. */
import type { GatewayConfig } from '../src/config/schema.js';
import type { GatewaySpec } from '../src/gateway/spec.js';
import { runClosedLoop, type ClosedLoopResult } from './closed-loop.js';
import { ratio } from './stats.js';
import { startGateway, startService } from './workloads.js';

export interface LoadShape {
  concurrency: number;
  count: number;
  durationMs: number;
  warmupCount: number;
}

export interface GatewayOverhead {
  direct: ClosedLoopResult;
  gateway: ClosedLoopResult;
  nginx?: ClosedLoopResult;
  nginxSkipped?: string;
  ratios: { gatewayP50: number; gatewayP99: number; gatewayRps: number; nginxP50?: number; nginxP99?: number; nginxRps?: number };
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
  const app = await startService('products');
  try {
    const gw = await startGateway(passThroughSpec(base, app.port), dir);
    const load = (origin: string, p: string) => runClosedLoop({ origin, path: p, ...shape });
    const direct = await load(`http://127.0.0.1:${app.port}`, '/products');
    const gateway = await load(`http://127.0.0.1:${gw.port}`, `/${base.stage}/products`);
    await gw.proc.stop();
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
      nginx: nginxResult,
      nginxSkipped: typeof ng === 'string' ? ng : undefined,
      ratios: {
        gatewayP50: ratio(gateway.p50Ms, direct.p50Ms),
        gatewayP99: ratio(gateway.p99Ms, direct.p99Ms),
        gatewayRps: ratio(gateway.rps, direct.rps),
        nginxP50: nginxResult && ratio(nginxResult.p50Ms, direct.p50Ms),
        nginxP99: nginxResult && ratio(nginxResult.p99Ms, direct.p99Ms),
        nginxRps: nginxResult && ratio(nginxResult.rps, direct.rps),
      },
    };
  } finally {
    await app.proc.stop();
  }
}
