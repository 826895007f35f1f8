// Issue 15's done-when, for real: the local stack with users and products at two replicas each
// (eleven processes, mTLS on 127.0.0.1), driven by a load generator of this file's own on plain
// node:http (nothing of meshgw's is on the client side), while one replica app of each backend is
// SIGKILLed. Real components: every meshgw process, the supervisor, SQLite, the OS's signals.
import assert from 'node:assert/strict';
import http from 'node:http';
import { rm } from 'node:fs/promises';
import { after, before, describe, it } from 'node:test';
import type { LoadedConfig } from '../../src/config/load.js';
import { startLocalStack, stopLocalStack } from '../../src/local/stack.js';
import { localStatus, type LocalStatus } from '../../src/local/status.js';
import { isAlive, readRunState } from '../../src/local/state.js';
import { replicaScratch } from './replica-stack.js';

const RATE = 100;
const SECONDS = 6;
const KILL_AT_MS = 2_000;
const REQUEST_TIMEOUT_MS = 15_000;

interface Reply {
  status: number;
  body: string;
  ms: number;
  error?: string;
}

function send(agent: http.Agent, url: string, method: string, headers: Record<string, string>, body?: unknown): Promise<Reply> {
  const text = body === undefined ? undefined : JSON.stringify(body);
  const started = performance.now();
  return new Promise((resolve) => {
    const req = http.request(url, { method, agent, timeout: REQUEST_TIMEOUT_MS, headers: { ...headers, ...(text ? { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(text)) } : {}) } }, (res) => {
      let data = '';
      res.on('data', (c: Buffer) => (data += c.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: data, ms: performance.now() - started }));
      res.on('error', (err) => resolve({ status: 0, body: '', ms: performance.now() - started, error: err.message }));
    });
    req.on('timeout', () => req.destroy(new Error('timed out')));
    req.on('error', (err) => resolve({ status: 0, body: '', ms: performance.now() - started, error: err.message }));
    req.end(text);
  });
}

/**
 * Open loop: request i leaves at start + i / rate, whatever the earlier ones did; `at` runs once
 * at its time. Resolves with every reply once all are in.
 */
async function openLoop(count: number, rate: number, fire: (i: number) => Promise<Reply>, at: { ms: number; run: () => Promise<void> }): Promise<Reply[]> {
  const start = performance.now();
  const replies: Promise<Reply>[] = [];
  let action: Promise<void> | undefined;
  while (replies.length < count) {
    const elapsed = performance.now() - start;
    if (!action && elapsed >= at.ms) action = at.run();
    while (replies.length < count && replies.length <= elapsed * (rate / 1000)) replies.push(fire(replies.length));
    await new Promise((r) => setTimeout(r, 2));
  }
  await action;
  return Promise.all(replies);
}

/** Until no sidecar reports an ejected replica: a run begins with every replica in rotation. */
async function waitNoEjection(adminUrls: string[], timeoutMs = 30_000): Promise<number> {
  const started = Date.now();
  for (;;) {
    const stats = await Promise.all(adminUrls.map(async (u) => (await (await fetch(`${u}/stats`)).json()) as Record<string, number>));
    const active = stats.reduce((n, s) => n + Object.entries(s).filter(([k]) => k.endsWith('outlier_detection.ejections_active')).reduce((m, [, v]) => m + v, 0), 0);
    if (active === 0) return Date.now() - started;
    if (Date.now() - started > timeoutMs) throw new Error(`${active} replicas still ejected after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

async function waitHealthy(loaded: LoadedConfig, killed: number[], timeoutMs = 30_000): Promise<{ status: LocalStatus; ms: number }> {
  const started = Date.now();
  for (;;) {
    const status = await localStatus(loaded);
    const procs = status.workloads.flatMap((w) => w.processes);
    if (status.healthy && procs.every((p) => p.pid && !killed.includes(p.pid))) return { status, ms: Date.now() - started };
    if (Date.now() - started > timeoutMs) throw new Error(`the stack was not healthy again within ${timeoutMs} ms: ${JSON.stringify(procs.map((p) => [p.name, p.live]))}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe('a local stack with two replicas of users and products', { timeout: 300_000 }, () => {
  let dir: string;
  let loaded: LoadedConfig;

  before(async () => {
    // Ejections of 2 s (not Envoy's 30 s), so that each run starts with both replicas in rotation.
    ({ dir, loaded } = await replicaScratch('meshgw-resilience-', { liftThrottles: true, backendsExtra: '    trafficPolicy: { outlierDetection: { baseEjectionTimeMs: 2000 } }\n' }));
    await startLocalStack(loaded, { port: 0 });
  });
  after(async () => {
    await stopLocalStack(loaded.stateDir);
    await rm(dir, { recursive: true, force: true });
  });

  it('starts eleven healthy processes, lists every replica in status, and serves through either replica', async () => {
    const s = await localStatus(loaded);
    const names = s.workloads.flatMap((w) => w.processes.map((p) => p.name));
    assert.equal(names.length, 11);
    for (const n of ['users', 'users-sidecar', 'users-2', 'users-2-sidecar', 'products-2', 'products-2-sidecar', 'orders', 'gateway']) assert.ok(names.includes(n), `${n} is listed`);
    assert.equal(s.healthy, true);
    const users2 = s.workloads.find((w) => w.name === 'users-2')!;
    assert.equal(users2.service, 'users');
    assert.equal(users2.spiffeId, s.workloads.find((w) => w.name === 'users')!.spiffeId, 'both replicas carry the service identity');
    assert.ok(!('error' in users2.certificate));
  });

  it('loses no order when one replica of each backend is SIGKILLed during 100 rps of orders, three runs in a row', async (t) => {
    const s = await localStatus(loaded);
    const base = s.gatewayUrl!;
    const key = s.apiKeys.find((k) => k.name === 'demo-standard')!.value;
    const agent = new http.Agent({ keepAlive: true, maxSockets: 256 });
    try {
      const auth = { 'x-api-key': key };
      const user = `resilience-${Date.now()}`;
      assert.equal((await send(agent, `${base}/users`, 'POST', auth, { username: user, password: 'resilience-password-1' })).status, 201);
      const login = await send(agent, `${base}/users/login`, 'POST', auth, { username: user, password: 'resilience-password-1' });
      const token = (JSON.parse(login.body) as { token: string }).token;
      const productId = (JSON.parse((await send(agent, `${base}/products`, 'GET', auth)).body) as { products: { id: string }[] }).products[0].id;
      const headers = { ...auth, authorization: `Bearer ${token}` };

      // A fresh stack answers slowly until V8 has compiled its hot paths: a warm-up load, not judged.
      const warm = await openLoop(RATE * 3, RATE, (i) => send(agent, `${base}/orders`, 'POST', { ...headers, 'idempotency-key': `warm-${Date.now()}-${i}` }, { productId, quantity: 1 }), { ms: Infinity, run: async () => undefined });
      t.diagnostic(`warm-up: ${warm.length} orders, 201 ×${warm.filter((r) => r.status === 201).length}`);

      for (let runNo = 1; runNo <= 3; runNo++) {
        // Runs alternate the victim: replica 2, then replica 1, then replica 2 again.
        const victimName = (svc: string) => (runNo === 2 ? svc : `${svc}-2`);
        const waited = await waitNoEjection((await localStatus(loaded)).workloads.flatMap((w) => (w.adminUrl ? [w.adminUrl] : [])));
        const killed: { name: string; pid: number }[] = [];
        const replies = await openLoop(
          RATE * SECONDS,
          RATE,
          (i) => send(agent, `${base}/orders`, 'POST', { ...headers, 'idempotency-key': `run${runNo}-${Date.now()}-${i}` }, { productId, quantity: 1 }),
          {
            ms: KILL_AT_MS,
            run: async () => {
              const record = (await readRunState(loaded.stateDir))!;
              for (const svc of ['users', 'products']) {
                const app = record.workloads.find((w) => w.name === victimName(svc))!.processes.find((p) => p.role === 'app')!;
                assert.ok(app.pid && isAlive(app.pid), `${app.name} runs before the kill`);
                process.kill(app.pid, 'SIGKILL');
                killed.push({ name: app.name, pid: app.pid });
              }
            },
          },
        );
        const failed = replies.filter((r) => r.status !== 201);
        const counts = new Map<number, number>();
        for (const f of failed) counts.set(f.status, (counts.get(f.status) ?? 0) + 1);
        const byStatus = [...counts].map(([k, v]) => `${k === 0 ? 'no answer' : k}×${v}`);
        const latencies = replies.map((r) => r.ms).sort((a, b) => a - b);
        const recovered = await waitHealthy(loaded, killed.map((k) => k.pid));
        t.diagnostic(
          `run ${runNo} (after ${waited} ms for ejections to end): ${replies.length} orders at ${RATE} rps, killed ${killed.map((k) => `${k.name} (pid ${k.pid})`).join(', ')} at ${KILL_AT_MS} ms; ` +
            `201 ×${replies.length - failed.length}, failed ${failed.length}${byStatus.length ? ` (${byStatus.join(', ')}; ${failed.slice(0, 3).map((f) => f.error ?? f.body.slice(0, 120)).join(' | ')})` : ''}; ` +
            `p50 ${latencies[Math.floor(latencies.length * 0.5)].toFixed(1)} ms, p99 ${latencies[Math.ceil(latencies.length * 0.99) - 1].toFixed(1)} ms, max ${latencies.at(-1)!.toFixed(1)} ms; whole again ${recovered.ms} ms after the load`,
        );
        assert.equal(killed.length, 2);
        assert.equal(failed.length, 0, `run ${runNo}: ${failed.length} of ${replies.length} orders failed`);
        const restarted = recovered.status.workloads.flatMap((w) => w.processes).filter((p) => killed.some((k) => k.name === p.name));
        assert.ok(restarted.every((p) => p.restarts >= 1), 'the supervisor restarted both killed apps');
      }
    } finally {
      agent.destroy();
    }
  });
});
