/**
 * `meshgw top` on the real local stack: the gateway, three sidecars and three apps run as real
 * processes on 127.0.0.1 (ports chosen at run time, scratch state folder), serving their metrics on
 * their admin ports; `top` scrapes those. Traffic goes through the gateway with the demo API keys.
 * The exact counts come from the feature function, whose wait between scrapes sends the traffic
 * (the window then holds exactly it); the CLI runs as a child process for the JSON shape, the
 * live table and Ctrl-C.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { loadConfig, type LoadedConfig } from '../../src/config/load.js';
import { startLocalStack, stopLocalStack } from '../../src/local/stack.js';
import { readApiKeys, readRunState } from '../../src/local/state.js';
import { loadShippedAlerts } from '../../src/top/alerts.js';
import { createLocalSource } from '../../src/top/local-source.js';
import { measureTop } from '../../src/top/session.js';
import type { TopSnapshot } from '../../src/top/types.js';
import { firstProductId, loginToken, ShopClient } from '../../src/verify/auth/shop-client.js';
import { MESHGW_BIN, runMeshgw } from '../support/cli.js';

const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '../../..');
const spiffe = (name: string) => `spiffe://cluster.local/ns/meshgw/sa/${name}`;
const FIVE_EDGES = ['gateway→orders', 'gateway→products', 'gateway→users', 'orders→products', 'orders→users'];

async function scratch(): Promise<{ dir: string; loaded: LoadedConfig; file: string }> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'meshgw-top-'));
  const text = (await readFile(path.join(root, 'meshgw.yaml'), 'utf8')).replace('gatewayPort: 8080', 'gatewayPort: 0');
  const file = path.join(dir, 'meshgw.yaml');
  await writeFile(file, text);
  return { dir, loaded: await loadConfig(file), file };
}

interface Sent {
  gatewayUsers: number;
  gatewayProducts: number;
  gatewayOrders: number;
  throttled: number;
}

/** register → login → list products → order, `orders` times; each order makes orders call users and products once. */
async function shop(client: ShopClient, key: string, orders: number, sent: Sent): Promise<void> {
  const username = `top-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}`;
  const reg = await client.register(key, username, 'pw-top-secret');
  sent.gatewayUsers++;
  assert.equal(reg.status, 201, `register: ${JSON.stringify(reg.json)}`);
  const token = loginToken(await client.login(key, username, 'pw-top-secret'))?.token;
  sent.gatewayUsers++;
  assert.ok(token, 'login gave a token');
  const products = await client.listProducts(key);
  sent.gatewayProducts++;
  const productId = firstProductId(products);
  assert.ok(productId, 'products listed');
  for (let i = 0; i < orders; i++) {
    const order = await client.createOrder(key, token, productId);
    sent.gatewayOrders++;
    assert.equal(order.status, 201, `order: ${JSON.stringify(order.json)}`);
  }
}

function edgeMap(s: TopSnapshot): Map<string, TopSnapshot['edges'][number]> {
  return new Map(s.edges.map((e) => [`${e.source}→${e.destination}`, e]));
}

describe('meshgw top on the local stack', { timeout: 180_000 }, () => {
  let dir: string;
  let loaded: LoadedConfig;
  let file: string;
  let gatewayUrl: string;
  let standard: string;
  let limited: string;

  before(async () => {
    ({ dir, loaded, file } = await scratch());
    const started = await startLocalStack(loaded, { port: 0 });
    gatewayUrl = started.run.gatewayUrl;
    const keys = (await readApiKeys(loaded.stateDir)) ?? [];
    standard = keys.find((k) => k.plan === 'standard')!.value;
    limited = keys.find((k) => k.plan === 'limited')!.value;
  });
  after(async () => {
    await stopLocalStack(loaded.stateDir);
    await rm(dir, { recursive: true, force: true });
  });

  it('shows the five edges with mTLS, their SPIFFE identities, and exactly the requests and 429s sent in the window', async () => {
    const source = createLocalSource(loaded, { readRun: () => readRunState(loaded.stateDir) });
    const sent: Sent = { gatewayUsers: 0, gatewayProducts: 0, gatewayOrders: 0, throttled: 0 };
    const client = new ShopClient(gatewayUrl);
    const ORDERS = 3;
    // Before the window: the 429 series must exist at the first scrape for a rule's rate() to see it grow
    // (Prometheus needs two points of a series; one born inside the window has one).
    const early = await burst(gatewayUrl, limited, 15);
    assert.ok(early.includes(429), `the early burst met 429s (${early.join(',')})`);
    const snapshot = await measureTop(
      {
        source,
        alerts: await loadShippedAlerts(),
        // The window between the two scrapes: exactly this traffic.
        sleep: async () => {
          const baseline = await sourceTotal(source);
          await shop(client, standard, ORDERS, sent);
          // The limited plan holds 5 at once (rate 10/s): 15 at once must meet 429s.
          const statuses = await burst(gatewayUrl, limited, 15);
          sent.gatewayProducts += statuses.length;
          sent.throttled = statuses.filter((s) => s === 429).length;
          assert.ok(sent.throttled > 0, `the burst met 429s (${statuses.join(',')})`);
          // Recorders count a request as its response ends; wait (bounded) until every caller's count shows it.
          await waitForSourceTotal(source, baseline + sent.gatewayUsers + sent.gatewayProducts + sent.gatewayOrders + 2 * ORDERS);
        },
      },
      { intervalMs: 0 },
    );
    await client.close();
    const edges = edgeMap(snapshot);
    assert.deepEqual([...edges.keys()].filter((k) => FIVE_EDGES.includes(k)).sort(), FIVE_EDGES);
    const expected: Record<string, number> = {
      'gateway→users': sent.gatewayUsers,
      'gateway→products': sent.gatewayProducts,
      'gateway→orders': sent.gatewayOrders,
      'orders→users': ORDERS,
      'orders→products': ORDERS,
    };
    for (const name of FIVE_EDGES) {
      const e = edges.get(name)!;
      assert.equal(e.requests, expected[name], `${name} requests`);
      assert.equal(e.mtls, true, `${name} over mTLS`);
      assert.equal(e.sourcePrincipal, spiffe(e.source), `${name} caller identity`);
      assert.equal(e.destinationPrincipal, spiffe(e.destination), `${name} callee identity`);
      assert.ok(e.p50Ms !== null && e.p99Ms !== null && e.p50Ms <= e.p99Ms, `${name} latency ${e.p50Ms}/${e.p99Ms}`);
    }
    assert.equal(edges.get('gateway→products')!.throttled429, sent.throttled);
    assert.equal(edges.get('gateway→users')!.throttled429, 0);
    assert.equal(edges.get('gateway→products')!.successRate, 1, '429s are not failures');
    assert.deepEqual(snapshot.targetsDown, []);
    // The shipped rule ApiThrottledRate (over 10 % of the gateway's answers are 429, by source_workload) fires
    // on this window: it marks the gateway's edges and no other.
    const throttledShare = sent.throttled / (sent.gatewayUsers + sent.gatewayProducts + sent.gatewayOrders);
    assert.ok(throttledShare > 0.1, `429 share ${throttledShare}`);
    for (const name of FIVE_EDGES) assert.equal(edges.get(name)!.alerts.includes('ApiThrottledRate'), name.startsWith('gateway→'), `${name}: ${edges.get(name)!.alerts.join(',')}`);
  });

  it('prints the snapshot shape with --output json while traffic flows, every count within what was sent', async () => {
    const sent: Sent = { gatewayUsers: 0, gatewayProducts: 0, gatewayOrders: 0, throttled: 0 };
    const client = new ShopClient(gatewayUrl);
    let stop = false;
    const traffic = (async () => {
      for (let i = 0; i < 500 && !stop; i++) await shop(client, standard, 1, sent);
    })();
    const run = await runMeshgw(['top', '--output', 'json', '--interval', '2', '-c', file], { timeoutMs: 60_000 });
    stop = true;
    await traffic;
    await client.close();
    assert.equal(run.code, 0, run.stderr);
    const snapshot = JSON.parse(run.stdout) as TopSnapshot;
    assert.deepEqual(Object.keys(snapshot).sort(), ['at', 'edges', 'target', 'targetsDown', 'windowSeconds']);
    assert.equal(snapshot.target, 'local');
    assert.ok(snapshot.windowSeconds >= 1.5 && snapshot.windowSeconds < 10, `window ${snapshot.windowSeconds}`);
    const edges = edgeMap(snapshot);
    const e0 = edges.get('gateway→orders')!;
    assert.deepEqual(Object.keys(e0).sort(), ['alerts', 'destination', 'destinationPrincipal', 'errors5xx', 'mtls', 'p50Ms', 'p95Ms', 'p99Ms', 'requests', 'rps', 'source', 'sourcePrincipal', 'successRate', 'throttled429'].sort());
    for (const name of FIVE_EDGES) {
      const e = edges.get(name);
      assert.ok(e, `${name} listed`);
      assert.ok(e.requests > 0, `${name} carried requests in the window`);
      assert.equal(e.mtls, true);
      assert.equal(e.sourcePrincipal, spiffe(e.source));
      assert.ok(Math.abs(e.rps - e.requests / snapshot.windowSeconds) < 0.5, `${name} rps ${e.rps} ≈ ${e.requests}/${snapshot.windowSeconds}`);
      assert.deepEqual(e.alerts, []);
    }
    assert.ok(edges.get('gateway→orders')!.requests <= sent.gatewayOrders);
    assert.ok(edges.get('gateway→users')!.requests <= sent.gatewayUsers);
  });

  it('redraws the table every interval and exits 0 on Ctrl-C', async () => {
    // Edges the callers have reported before are listed (idle ones at 0 rps).
    const client = new ShopClient(gatewayUrl);
    await shop(client, standard, 1, { gatewayUsers: 0, gatewayProducts: 0, gatewayOrders: 0, throttled: 0 });
    await client.close();
    const child = spawn(process.execPath, [MESHGW_BIN, 'top', '--interval', '0.5', '-c', file], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    try {
      await until(() => (stdout.match(/meshgw top · local/g) ?? []).length >= 2, 30_000, () => `two frames; stdout: ${stdout}\nstderr: ${stderr}`);
      assert.match(stdout, /SOURCE\s+DESTINATION\s+MTLS/);
      assert.match(stdout, /gateway\s+orders\s+yes\s+spiffe:\/\/cluster\.local\/ns\/meshgw\/sa\/gateway/, 'the edge is listed with its caller identity');
      child.kill('SIGINT');
      assert.equal(await exited, 0, stderr);
      assert.doesNotMatch(stderr, /unexpected error/);
    } finally {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    }
  });
});

/**
 * `n` GET /products at once, each on its own connection (fetch's pool has no per-origin limit): through
 * a pool of a few connections a loaded machine would space them out below the limited plan's 10/s.
 */
async function burst(gatewayUrl: string, key: string, n: number): Promise<number[]> {
  return Promise.all(
    Array.from({ length: n }, async () => {
      const res = await fetch(`${gatewayUrl}/products`, { headers: { 'x-api-key': key } });
      await res.arrayBuffer();
      return res.status;
    }),
  );
}

async function until(cond: () => boolean, timeoutMs: number, describe: () => string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${describe()}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Every request the callers (gateway and sidecars, reporter="source") have counted so far. */
async function sourceTotal(source: ReturnType<typeof createLocalSource>): Promise<number> {
  const round = await source.scrapeAll();
  return round.scrapes
    .flatMap((s) => s.samples)
    .filter((s) => s.name === 'istio_requests_total' && s.labels.reporter === 'source')
    .reduce((a, s) => a + s.value, 0);
}

/** Polls until the callers have counted `total` requests (a recorder counts a request as its response ends). */
async function waitForSourceTotal(source: ReturnType<typeof createLocalSource>, total: number): Promise<void> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const seen = await sourceTotal(source);
    if (seen >= total) return;
    if (Date.now() > deadline) throw new Error(`the callers reported ${seen} requests, expected ${total}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
