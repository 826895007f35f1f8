/**
 * 3. The whole order flow on the real local stack: POST /orders through the gateway (API key,
 * bearer token) → orders → users + products over mTLS, at a fixed concurrency.
 */
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { Agent, request } from 'undici';
import { parse, stringify } from 'yaml';
import { loadConfig } from '../src/config/load.js';
import { startLocalStack, stopLocalStack } from '../src/local/stack.js';
import { cpuPerRequest, snapshot } from './proc-cpu.js';
import { runClosedLoop, type ClosedLoopResult } from './closed-loop.js';
import type { LoadShape } from './gateway-overhead.js';
import { ROOT } from './workloads.js';

export interface OrderFlow extends ClosedLoopResult {
  /** The same stack's GET /products through the gateway (gateway + one mTLS hop), for scale. */
  productsViaGateway: ClosedLoopResult;
  /** CPU milliseconds per order, by process (Linux /proc; empty elsewhere). */
  cpuMsPerOrder: Record<string, number>;
  cpuMsPerProductsGet: Record<string, number>;
}

const HIGH = { rate: 1_000_000, burst: 1_000_000 };

/** meshgw.yaml with its state in `stateDir` and every limit too high to bind. */
export async function scratchConfig(dir: string, stateDir: string): Promise<string> {
  const doc = parse(await readFile(path.join(ROOT, 'meshgw.yaml'), 'utf8')) as Record<string, Record<string, unknown>>;
  const gw = doc.gateway as { throttle: unknown; methodThrottles: Record<string, unknown>[]; usagePlans: { throttle: unknown; quota?: { limit: number } }[] };
  gw.throttle = HIGH;
  gw.methodThrottles = gw.methodThrottles.map((m) => ({ ...m, ...HIGH }));
  for (const p of gw.usagePlans) {
    p.throttle = HIGH;
    if (p.quota) p.quota.limit = 1_000_000_000;
  }
  doc.local = { ...doc.local, stateDir, gatewayPort: 0 };
  const file = path.join(dir, 'meshgw.yaml');
  await writeFile(file, stringify(doc));
  return file;
}

async function call(agent: Agent, url: string, method: 'POST' | 'GET', headers: Record<string, string>, body?: unknown): Promise<{ status: number; json: Record<string, unknown> }> {
  const res = await request(url, { method, headers: { 'content-type': 'application/json', ...headers }, body: body === undefined ? undefined : JSON.stringify(body), dispatcher: agent });
  const text = await res.body.text();
  return { status: res.statusCode, json: text ? (JSON.parse(text) as Record<string, unknown>) : {} };
}

export async function measureOrderFlow(dir: string, shape: LoadShape): Promise<OrderFlow> {
  const stateDir = path.join(dir, 'state');
  const loaded = await loadConfig(await scratchConfig(dir, stateDir));
  const started = await startLocalStack(loaded, { port: 0 });
  const agent = new Agent({ connections: 2 });
  try {
    if (started.type !== 'started') throw new Error('a stack was already running in the scratch state dir');
    const base = started.run.gatewayUrl.replace(/\/$/, '');
    const key = started.apiKeys.find((k) => k.plan === 'standard') ?? started.apiKeys[0];
    const auth = { 'x-api-key': key.value };
    const username = `bench-${Date.now().toString(36)}`;
    const password = 'bench-password-1';
    const reg = await call(agent, `${base}/users`, 'POST', auth, { username, password });
    if (reg.status !== 201) throw new Error(`register answered ${reg.status}`);
    const login = await call(agent, `${base}/users/login`, 'POST', auth, { username, password });
    if (login.status !== 200 || typeof login.json.token !== 'string') throw new Error(`login answered ${login.status}`);
    const url = new URL(base);
    const headers = { ...auth, authorization: `Bearer ${login.json.token}`, 'content-type': 'application/json' };
    const pids: Record<string, number> = {};
    for (const w of started.run.workloads) for (const p of w.processes) if (p.pid) pids[p.name] = p.pid;
    pids.bench = process.pid;
    const before = snapshot(pids);
    const orders = await runClosedLoop({ origin: url.origin, path: `${url.pathname}/orders`, method: 'POST', headers, body: JSON.stringify({ productId: 'p-100', quantity: 1 }), ...shape });
    if ((orders.statuses['201'] ?? 0) === 0) throw new Error(`no order was created: ${JSON.stringify(orders.statuses)} ${orders.firstError ?? ''}`);
    const middle = snapshot(pids);
    const productsViaGateway = await runClosedLoop({ origin: url.origin, path: `${url.pathname}/products`, headers: auth, ...shape });
    const after = snapshot(pids);
    // The warm-up requests ran inside the window too: count them.
    return {
      ...orders,
      productsViaGateway,
      cpuMsPerOrder: cpuPerRequest(before, middle, orders.count + orders.errors + shape.warmupCount),
      cpuMsPerProductsGet: cpuPerRequest(middle, after, productsViaGateway.count + productsViaGateway.errors + shape.warmupCount),
    };
  } finally {
    await agent.close();
    await stopLocalStack(stateDir);
  }
}
