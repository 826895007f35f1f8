// meshgw trace against the real local stack (seven processes, mTLS on 127.0.0.1): the shop flow is
// driven through the gateway with a plain HTTP client, then the real CLI reads the stack's own logs.
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { runMeshgw, type CliRun } from '../support/cli.js';
import { request } from 'undici';
import { loadConfig, type LoadedConfig } from '../../src/config/load.js';
import { startLocalStack, stopLocalStack } from '../../src/local/stack.js';
import { localStatus } from '../../src/local/status.js';
import type { TraceResult } from '../../src/trace/command.js';
import type { TraceSpan } from '../../src/trace/types.js';

const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '../../..');

const meshgw = (args: string[]): Promise<CliRun> => runMeshgw(args, { env: { CI: '1' }, timeoutMs: 60_000 });

async function call(base: string, method: string, route: string, headers: Record<string, string>, body?: unknown): Promise<{ status: number; json: unknown; requestId: string }> {
  const res = await request(base + route, { method: method as 'GET', headers: { ...headers, ...(body ? { 'content-type': 'application/json' } : {}) }, body: body ? JSON.stringify(body) : undefined });
  const text = await res.body.text();
  return { status: res.statusCode, json: text ? JSON.parse(text) : undefined, requestId: String(res.headers['x-request-id']) };
}

// Times are printed to 0.1 ms; sums of two such numbers carry float noise far below that.
const EPSILON_MS = 1e-6;

function within(child: TraceSpan, parent: TraceSpan): boolean {
  return child.startMs >= parent.startMs - EPSILON_MS && child.startMs + child.durationMs <= parent.startMs + parent.durationMs + EPSILON_MS;
}

describe('meshgw trace on the local stack', () => {
  let dir: string;
  let file: string;
  let loaded: LoadedConfig;
  let base: string;
  let auth: Record<string, string>;
  let productId: string;
  let token: string;

  before(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'meshgw-trace-'));
    file = path.join(dir, 'meshgw.yaml');
    await writeFile(file, (await readFile(path.join(root, 'meshgw.yaml'), 'utf8')).replace('gatewayPort: 8080', 'gatewayPort: 0'));
    loaded = await loadConfig(file);
    await startLocalStack(loaded, { port: 0 });
    const s = await localStatus(loaded);
    base = s.gatewayUrl!;
    auth = { 'x-api-key': s.apiKeys.find((k) => k.name === 'demo-standard')!.value };
    assert.equal((await call(base, 'POST', '/users', auth, { username: 'trace.user', password: 'trace-password-1' })).status, 201);
    const login = await call(base, 'POST', '/users/login', auth, { username: 'trace.user', password: 'trace-password-1' });
    token = (login.json as { token: string }).token;
    productId = ((await call(base, 'GET', '/products', auth)).json as { products: { id: string }[] }).products[0].id;
  });
  after(async () => {
    await stopLocalStack(loaded.stateDir);
    await rm(dir, { recursive: true, force: true });
  });

  const order = () => call(base, 'POST', '/orders', { ...auth, authorization: `Bearer ${token}` }, { productId, quantity: 1 });

  it("shows an order's four hops (the gateway's own, gateway → orders, orders → users, orders → products), each measured, non-negative and nested in its parent", async () => {
    const placed = await order();
    assert.equal(placed.status, 201);
    const run = await meshgw(['trace', placed.requestId, '-c', file, '--output', 'json']);
    assert.equal(run.code, 0, run.stderr);
    const { trace, summary } = JSON.parse(run.stdout) as TraceResult;
    assert.equal(trace.source, 'local-logs');
    assert.equal(trace.requestId, placed.requestId);
    assert.equal(trace.method, 'POST');
    assert.equal(trace.status, 201);

    const byName = (name: string) => trace.spans.filter((s) => s.name === name);
    const rootSpan = trace.spans[0];
    assert.equal(rootSpan.name, 'gateway');
    assert.equal(rootSpan.parentId, undefined);
    for (const hop of ['gateway → orders', 'orders → users', 'orders → products']) {
      assert.equal(byName(hop).length, 1, `${hop} appears once`);
      assert.equal(byName(hop)[0].timing, 'measured', `${hop} is measured by its caller`);
    }
    for (const svc of ['orders', 'users', 'products']) {
      assert.equal(byName(svc).length, 1, `the ${svc} app span`);
      assert.equal(byName(`${svc} sidecar (inbound)`)[0]?.timing, 'measured', `the ${svc} sidecar's own line was matched`);
    }
    const byId = new Map(trace.spans.map((s) => [s.id, s]));
    for (const s of trace.spans) {
      assert.ok(s.durationMs >= 0, `${s.name} lasts ${s.durationMs} ms`);
      if (s.parentId) assert.ok(within(s, byId.get(s.parentId)!), `${s.name} [${s.startMs}, +${s.durationMs}] lies within ${byId.get(s.parentId)!.name} [${byId.get(s.parentId)!.startMs}, +${byId.get(s.parentId)!.durationMs}]`);
    }
    // The tree is the call graph: users and products are called by orders, orders by the gateway.
    assert.equal(byId.get(byName('orders → users')[0].parentId!)!.name, 'orders');
    assert.equal(byId.get(byName('gateway → orders')[0].parentId!)!.name, 'gateway');
    assert.deepEqual(summary.hops.map((h) => h.hop).sort(), ['gateway → orders', 'orders → products', 'orders → users']);
    for (const h of summary.hops) {
      assert.ok(h.callerMs >= h.calleeMs, `${h.hop}: the caller waited at least as long as the callee worked`);
      assert.ok(h.inboundSidecarMs !== undefined && h.inboundSidecarMs >= 0, `${h.hop}: inbound sidecar time measured`);
    }
    assert.ok(summary.gatewayOwnMs >= 0 && summary.gatewayOwnMs <= trace.durationMs);
  });

  it('shows the slowest recent POST /orders when no id is given, as the access log ranks them', async () => {
    for (let i = 0; i < 3; i++) assert.equal((await order()).status, 201);
    const run = await meshgw(['trace', '-c', file, '--output', 'json']);
    assert.equal(run.code, 0, run.stderr);
    const { trace } = JSON.parse(run.stdout) as TraceResult;
    const log = (await readFile(path.join(loaded.stateDir, 'local', 'logs', 'gateway.log'), 'utf8'))
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l) as { requestId?: string; httpMethod?: string; resourcePath?: string; responseLatency?: number })
      .filter((l) => l.httpMethod === 'POST' && l.resourcePath === '/orders');
    assert.ok(log.length >= 4);
    const slowest = Math.max(...log.map((l) => l.responseLatency ?? 0));
    assert.equal(trace.durationMs, slowest);
    assert.equal(trace.method, 'POST');
    assert.match(trace.path, /\/orders$/);
  });

  it('prints a text waterfall with bars and writes the same trace as a self-contained HTML page', async () => {
    const placed = await order();
    const html = path.join(dir, 'trace.html');
    const run = await meshgw(['trace', placed.requestId, '-c', file, '--html', html]);
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stdout, new RegExp(`request ${placed.requestId}`));
    assert.match(run.stdout, /^ {2}gateway → orders .*\|\s*█+\s*\| 201$/m);
    assert.match(run.stdout, /orders → users/);
    assert.match(run.stdout, /gateway own time: \d+\.\d ms/);
    const page = await readFile(html, 'utf8');
    assert.match(page, /^<!doctype html>/);
    assert.doesNotMatch(page, /<script|<link|src="http/, 'no script and nothing fetched: it opens offline');
    assert.match(page, /orders → products/);
    assert.match(page, new RegExp(placed.requestId));
  });

  it('says which request it could not find, and exits 3', async () => {
    const run = await meshgw(['trace', 'no-such-request', '-c', file]);
    assert.equal(run.code, 3);
    assert.match(run.stderr, /no request no-such-request in the local gateway's access log/);
    assert.match(run.stderr, /hint: /);
  });
});
