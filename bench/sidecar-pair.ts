/**
 * 2b. Istio's published data-plane latency figure, like for like: two sidecars with mTLS
 * (client → client sidecar → server sidecar → app) against the same load straight to the app,
 * at 1 000 requests/s open loop over 16 connections with a 1 KiB payload echoed back (Fortio's
 * set-up). Also each sidecar's resident memory idle and at that load, and its CPU per request
 * (CPU ms per request = vCPU at 1 000 requests/s, Istio's other published figure).
 */
import path from 'node:path';
import { runFixedRate, type FixedRateResult } from './fixed-rate.js';
import { makePki, startSidecarPair } from './mesh-overhead.js';
import { cpuPerRequest, snapshot } from './proc-cpu.js';
import { rssNow, sampleRss } from './proc-mem.js';
import { round } from './stats.js';
import { startEcho } from './workloads.js';

export interface SidecarPairShape {
  rps: number;
  connections: number;
  payloadBytes: number;
  durationMs: number;
  warmupMs: number;
  /** Mesh connections each egress keeps open, as the local stack configures them. */
  warmConnections: number;
}

export interface SidecarPair {
  shape: SidecarPairShape;
  direct: FixedRateResult;
  twoSidecars: FixedRateResult;
  added: { p50Ms: number; p90Ms: number; p99Ms: number };
  /** VmRSS right after start (warm connections open, no request yet), MiB. */
  rssIdleMiB: Record<string, number>;
  /** The largest VmRSS sampled every 100 ms during the measured load, MiB. */
  rssAtLoadMiB: Record<string, number>;
  /** CPU ms per request by process during the two-sidecar run. */
  cpuMsPerRequest: Record<string, number>;
}

export async function measureSidecarPair(dir: string, shape: SidecarPairShape): Promise<SidecarPair> {
  const { files } = await makePki(path.join(dir, 'pair'));
  const appSocket = path.join(dir, 'echo.sock');
  const app = await startEcho(appSocket);
  const { serverCar, clientCar } = await startSidecarPair(dir, files, { appSocket, clientAppSocket: path.join(dir, 'orders-app-unused.sock'), egressSocket: path.join(dir, 'pair-orders-to-products.sock') }, shape.warmConnections);
  try {
    const sidecars = { 'client-sidecar': clientCar.proc.child.pid ?? 0, 'server-sidecar': serverCar.proc.child.pid ?? 0 };
    const rssIdleMiB = rssNow(sidecars);
    const body = Buffer.alloc(shape.payloadBytes, 'x');
    const load = { path: '/echo', method: 'POST' as const, headers: { 'content-type': 'application/octet-stream' }, body, rps: shape.rps, connections: shape.connections, durationMs: shape.durationMs, warmupMs: shape.warmupMs };
    const direct = await runFixedRate({ origin: `http://127.0.0.1:${app.port}`, ...load });
    const pids = { ...sidecars, app: app.proc.child.pid ?? 0, bench: process.pid };
    const before = snapshot(pids);
    const rss = sampleRss(sidecars, 100);
    // The warm-up phase runs inside this window too; CPU is divided by every request sent.
    const twoSidecars = await runFixedRate({ origin: 'http://localhost', socketPath: clientCar.egress.products, ...load });
    const rssAtLoadMiB = rss.stop().maxMiB;
    const sent = Math.floor((shape.durationMs + shape.warmupMs) / (1000 / shape.rps));
    return {
      shape,
      direct,
      twoSidecars,
      added: {
        p50Ms: round(twoSidecars.p50Ms - direct.p50Ms, 3),
        p90Ms: round(twoSidecars.p90Ms - direct.p90Ms, 3),
        p99Ms: round(twoSidecars.p99Ms - direct.p99Ms, 3),
      },
      rssIdleMiB,
      rssAtLoadMiB,
      cpuMsPerRequest: cpuPerRequest(before, snapshot(pids), sent),
    };
  } finally {
    await clientCar.proc.stop();
    await serverCar.proc.stop();
    await app.proc.stop();
  }
}
