/**
 * `node dist/bench/run.js [--out FILE] [--only gateway,mesh,sidecars,orders,limiter,startup] [--profile DIR]
 *   [--gateway-node-flags "..."] [--sidecar-node-flags "..."]`
 * Runs every measurement once, prints a table and the JSON, and writes the JSON to FILE
 * (default ./bench-results.json). --profile runs the gateway and sidecars under --cpu-prof.
 * Every child process is stopped at the end, also on error or Ctrl-C.
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { parseConfigText } from '../src/config/load.js';
import { measureGatewayOverhead } from './gateway-overhead.js';
import { measureLimiterExactness, measureThrottleCost } from './limiter.js';
import { describeMachine } from './machine.js';
import { measureMeshOverhead } from './mesh-overhead.js';
import { startNginx } from './nginx.js';
import { measureOrderFlow } from './order-flow.js';
import { measureSidecarPair } from './sidecar-pair.js';
import { warmConnections } from '../src/local/plan.js';
import { stopAll } from './procs.js';
import { renderReport } from './report.js';
import { type BenchResults, type Section } from './results.js';
import { measureStartup } from './startup.js';
import { nodeFlags, ROOT } from './workloads.js';

const CONCURRENCY = 16;
const SHAPE = { concurrency: CONCURRENCY, count: 40_000, durationMs: 4_000, warmupCount: 1_000 };
const HANDSHAKE_SHAPE = { concurrency: 4, count: 4_000, durationMs: 3_000, warmupCount: 40 };
/** Istio's published latency set-up (Fortio): 1 000 requests/s, 16 connections, 1 KiB payload, mTLS. */
const PAIR_SHAPE = { rps: 1_000, connections: 16, payloadBytes: 1024, durationMs: 10_000, warmupMs: 2_000 };
const ORDER_SHAPE = { concurrency: CONCURRENCY, count: 20_000, durationMs: 5_000, warmupCount: 200 };
const LIMIT = { rate: 200, burst: 20, factor: 5, seconds: 10 };
const STARTUP_RUNS = 11;

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

async function main(): Promise<number> {
  const t0 = Date.now();
  const out = path.resolve(arg('--out') ?? 'bench-results.json');
  const only = arg('--only')?.split(',') as Section[] | undefined;
  const profileDir = arg('--profile');
  // Extra node flags to try on the gateway or the sidecars (e.g. --max-semi-space-size=4), space-separated.
  nodeFlags.gateway.push(...(arg('--gateway-node-flags')?.split(' ').filter(Boolean) ?? []));
  nodeFlags.sidecar.push(...(arg('--sidecar-node-flags')?.split(' ').filter(Boolean) ?? []));
  if (profileDir) {
    nodeFlags.gateway.push('--cpu-prof', '--cpu-prof-dir', path.resolve(profileDir, 'gateway'));
    nodeFlags.sidecar.push('--cpu-prof', '--cpu-prof-dir', path.resolve(profileDir, 'sidecar'));
  }
  const want = (s: Section) => (only ? only.includes(s) : true);
  const dir = await mkdtemp(path.join(os.tmpdir(), 'meshgw-bench-'));
  const config = parseConfigText(await readFile(path.join(ROOT, 'meshgw.yaml'), 'utf8'), 'meshgw.yaml');
  const base = config.gateway;
  const pairShape = { ...PAIR_SHAPE, warmConnections: warmConnections(config) };
  const results: BenchResults = {
    startedAt: new Date().toISOString(),
    machine: describeMachine(),
    settings: { closedLoop: SHAPE, handshakes: HANDSHAKE_SHAPE, sidecarPair: pairShape, orders: ORDER_SHAPE, limiter: LIMIT, startupRuns: STARTUP_RUNS, profile: profileDir ?? null, nodeFlags },
    failures: [],
    totalSeconds: 0,
  };
  const section = async (name: Section, fn: () => Promise<void>) => {
    if (!want(name)) return;
    process.stderr.write(`bench: ${name}…\n`);
    try {
      await fn();
    } catch (err) {
      results.failures.push({ section: name, error: (err as Error).message });
    } finally {
      await stopAll();
    }
  };
  const onSignal = () => void stopAll().then(() => process.exit(130));
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    await section('gateway', async () => {
      results.gateway = await measureGatewayOverhead(base, dir, SHAPE, (port) => startNginx(dir, port));
    });
    await section('mesh', async () => {
      results.mesh = await measureMeshOverhead(dir, SHAPE, HANDSHAKE_SHAPE);
    });
    await section('sidecars', async () => {
      results.sidecarPair = await measureSidecarPair(dir, pairShape);
    });
    await section('orders', async () => {
      results.orderFlow = await measureOrderFlow(dir, ORDER_SHAPE);
    });
    await section('limiter', async () => {
      results.limiter = await measureLimiterExactness(base, dir, LIMIT);
      results.throttleCost = measureThrottleCost(base);
    });
    await section('startup', async () => {
      results.startup = await measureStartup(dir, STARTUP_RUNS);
    });
  } finally {
    await stopAll();
    await rm(dir, { recursive: true, force: true });
  }
  results.totalSeconds = Math.round((Date.now() - t0) / 1000);
  await writeFile(out, JSON.stringify(results, null, 2) + '\n');
  process.stdout.write(renderReport(results) + '\n\n' + JSON.stringify(results, null, 2) + '\n');
  process.stderr.write(`bench: results written to ${out}\n`);
  return results.failures.length ? 1 : 0;
}

main().then(
  (code) => process.exit(code),
  (err: Error) => {
    process.stderr.write(`bench: ${err.stack ?? err.message}\n`);
    void stopAll().then(() => process.exit(1));
  },
);
