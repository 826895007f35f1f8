import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Pool } from 'undici';
import { createGateway, type GatewayHandle } from '../../src/gateway/gateway.js';
import { FakeClock } from './fake-clock.js';
import { API_KEYS, closedPort, gatewayConfig, gatewaySpec, LogCollector, route, startUpstream, type FakeUpstream } from './helpers.js';

const STD = API_KEYS[0];
const LIM = API_KEYS[1];

interface Reply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  json: Record<string, unknown>;
}

async function send(client: Pool, path: string, opts: { method?: string; headers?: Record<string, string>; body?: string | AsyncIterable<Buffer> } = {}): Promise<Reply> {
  const res = await client.request({ path, method: (opts.method ?? 'GET') as 'GET', headers: opts.headers, body: opts.body as string });
  const text = await res.body.text();
  return { status: res.statusCode, headers: res.headers, json: text ? (JSON.parse(text) as Record<string, unknown>) : {} };
}

describe('gateway routing, keys and transformation', () => {
  let upstream: FakeUpstream;
  let gateway: GatewayHandle;
  let client: Pool;
  const log = new LogCollector();

  before(async () => {
    upstream = await startUpstream();
    gateway = createGateway(gatewaySpec([route('products', upstream.origin), route('users', upstream.origin, false)]), { log });
    const port = await gateway.listen();
    client = new Pool(`http://127.0.0.1:${port}`, { connections: 4 });
  });
  after(async () => {
    await client.close();
    await gateway.close();
    await upstream.close();
  });

  it('answers 403 Missing Authentication Token for an unknown stage or path', async () => {
    for (const path of ['/dev/products', '/prod/payments', '/prod', '/prod/productsx']) {
      const r = await send(client, path, { headers: { 'x-api-key': STD.value } });
      assert.equal(r.status, 403, path);
      assert.deepEqual(r.json, { message: 'Missing Authentication Token' });
    }
    assert.equal(upstream.seen.length, 0, 'nothing reached the upstream');
  });

  it('refuses a request without a key or with a wrong key with 403 Forbidden', async () => {
    const none = await send(client, '/prod/products');
    const wrong = await send(client, '/prod/products', { headers: { 'x-api-key': STD.value.slice(0, -1) + 'X' } });
    assert.equal(none.status, 403);
    assert.deepEqual(none.json, { message: 'Forbidden' });
    assert.equal(wrong.status, 403);
    assert.deepEqual(wrong.json, { message: 'Forbidden' });
    assert.equal(upstream.seen.length, 0);
  });

  it('forwards a keyed request with the stage stripped and identity, request id and trace headers added', async () => {
    const before = upstream.seen.length;
    const r = await send(client, '/prod/products/p-100?view=full', {
      headers: { 'x-api-key': STD.value, 'x-meshgw-api-key-id': 'forged', 'x-meshgw-usage-plan': 'gold', 'x-meshgw-peer-identity': 'spiffe://evil' },
    });
    assert.equal(r.status, 200);
    assert.equal(r.headers['x-upstream'], 'yes');
    const seen = upstream.seen[before];
    assert.equal(seen.url, '/products/p-100?view=full');
    assert.equal(seen.headers['x-meshgw-api-key-id'], STD.id);
    assert.equal(seen.headers['x-meshgw-usage-plan'], 'standard');
    assert.equal(seen.headers['x-meshgw-peer-identity'], undefined);
    assert.equal(seen.headers['x-api-key'], undefined, 'the key itself never reaches a service');
    assert.match(String(seen.headers['x-request-id']), /^[0-9a-f-]{36}$/);
    assert.equal(r.headers['x-request-id'], seen.headers['x-request-id']);
    assert.match(String(seen.headers.traceparent), /^00-[0-9a-f]{32}-[0-9a-f]{16}-01$/);
    const amzn = /^Root=1-([0-9a-f]{8})-([0-9a-f]{24})$/.exec(String(seen.headers['x-amzn-trace-id']));
    assert.ok(amzn, String(seen.headers['x-amzn-trace-id']));
    assert.equal(String(seen.headers.traceparent).slice(3, 35), amzn[1] + amzn[2], 'both headers name the same trace');
    assert.ok(Math.abs(parseInt(amzn[1], 16) - Date.now() / 1000) < 60, 'the X-Ray id starts with the epoch');
  });

  it('strips identity headers on a route that needs no key, and keeps a trace the client started', async () => {
    const before = upstream.seen.length;
    const traceparent = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01';
    const r = await send(client, '/prod/users/login', { method: 'POST', body: '{"a":1}', headers: { 'content-type': 'application/json', traceparent, 'x-meshgw-api-key-id': 'forged', 'x-request-id': 'client-id-1' } });
    assert.equal(r.status, 200);
    const seen = upstream.seen[before];
    assert.equal(seen.headers['x-meshgw-api-key-id'], undefined);
    assert.equal(seen.headers['x-meshgw-usage-plan'], undefined);
    assert.equal(seen.headers.traceparent, traceparent);
    assert.equal(seen.headers['x-amzn-trace-id'], 'Root=1-0af76519-16cd43dd8448eb211c80319c');
    assert.equal(seen.headers['x-request-id'], 'client-id-1');
    assert.equal(seen.body, '{"a":1}');
  });

  it('writes one access-log line per request with the API Gateway fields', async () => {
    const n = log.records.length;
    await send(client, '/prod/products?x=1', { headers: { 'x-api-key': STD.value } });
    await log.waitFor(n + 1);
    const rec = log.records[n];
    assert.equal(rec.httpMethod, 'GET');
    assert.equal(rec.resourcePath, '/products');
    assert.equal(rec.path, '/prod/products?x=1');
    assert.equal(rec.status, 200);
    assert.equal(rec.apiKeyId, STD.id);
    assert.equal(rec.usagePlan, 'standard');
    assert.equal(rec.throttled, false);
    assert.equal(rec.errorType, null);
    assert.equal(rec.ip, '127.0.0.1');
    assert.match(rec.requestId, /^[0-9a-f-]{36}$/);
    assert.match(rec.traceId, /^1-[0-9a-f]{8}-[0-9a-f]{24}$/);
    assert.ok(rec.integrationLatency >= 0 && rec.responseLatency >= rec.integrationLatency, JSON.stringify(rec));
    assert.ok(Math.abs(Date.parse(rec.requestTime) - Date.now()) < 60_000);
  });

  it('answers 413 for a declared or a streamed body over maxBodyBytes', async () => {
    const big = 'x'.repeat(2000);
    const declared = await send(client, '/prod/users', { method: 'POST', body: big, headers: { 'content-type': 'text/plain' } });
    assert.equal(declared.status, 413);
    async function* chunks() {
      for (let i = 0; i < 4; i++) yield Buffer.alloc(400, 0x61);
    }
    const streamed = await send(client, '/prod/users', { method: 'POST', body: chunks(), headers: { 'content-type': 'text/plain' } });
    assert.equal(streamed.status, 413);
    assert.deepEqual(streamed.json, { message: 'Request Too Long' });
    const small = await send(client, '/prod/users', { method: 'POST', body: 'x'.repeat(1000) });
    assert.equal(small.status, 200);
    assert.equal(small.json.bodyLength, 1000);
  });
});

describe('gateway throttling', () => {
  let upstream: FakeUpstream;

  before(async () => {
    upstream = await startUpstream();
  });
  after(() => upstream.close());

  it('answers 429 Too Many Requests past the burst and admits again after refill', async () => {
    const clock = new FakeClock();
    const log = new LogCollector();
    const gw = createGateway(gatewaySpec([route('orders', upstream.origin)], gatewayConfig({ methodThrottles: [{ method: 'POST', path: '/orders', rate: 10, burst: 3 }] })), { log, clock });
    const client = new Pool(`http://127.0.0.1:${await gw.listen()}`, { connections: 2 });
    try {
      const statuses: number[] = [];
      for (let i = 0; i < 5; i++) statuses.push((await send(client, '/prod/orders', { method: 'POST', headers: { 'x-api-key': STD.value } })).status);
      assert.deepEqual(statuses, [200, 200, 200, 429, 429]);
      const limited = await send(client, '/prod/orders', { method: 'POST', headers: { 'x-api-key': STD.value } });
      assert.deepEqual(limited.json, { message: 'Too Many Requests' });
      // GET /orders has no method override, so it is still served.
      assert.equal((await send(client, '/prod/orders', { headers: { 'x-api-key': STD.value } })).status, 200);
      clock.advance(200);
      const refilled = [];
      for (let i = 0; i < 3; i++) refilled.push((await send(client, '/prod/orders', { method: 'POST', headers: { 'x-api-key': STD.value } })).status);
      assert.deepEqual(refilled, [200, 200, 429], '200 ms at 10/s refills two tokens');
      await log.waitFor(10);
      assert.equal(log.records.filter((r) => r.throttled).length, 4);
      assert.ok(log.records.filter((r) => r.throttled).every((r) => r.status === 429 && r.errorType === 'THROTTLED'));
    } finally {
      await client.close();
      await gw.close();
    }
  });

  it('answers 429 Limit Exceeded when the key has used its quota', async () => {
    const clock = new FakeClock();
    const gw = createGateway(gatewaySpec([route('products', upstream.origin)]), { log: new LogCollector(), clock });
    const client = new Pool(`http://127.0.0.1:${await gw.listen()}`, { connections: 2 });
    try {
      const statuses: number[] = [];
      for (let i = 0; i < 4; i++) {
        statuses.push((await send(client, '/prod/products', { headers: { 'x-api-key': LIM.value } })).status);
        clock.advance(1000);
      }
      assert.deepEqual(statuses, [200, 200, 200, 429]);
      const over = await send(client, '/prod/products', { headers: { 'x-api-key': LIM.value } });
      assert.deepEqual(over.json, { message: 'Limit Exceeded' });
      assert.equal((await send(client, '/prod/products', { headers: { 'x-api-key': STD.value } })).status, 200, 'another key is not affected');
    } finally {
      await client.close();
      await gw.close();
    }
  });
});

describe('gateway upstream failures', () => {
  it('answers 503 when the upstream refuses connections', async () => {
    const log = new LogCollector();
    const gw = createGateway(gatewaySpec([route('users', `http://127.0.0.1:${await closedPort()}`, false)]), { log });
    const client = new Pool(`http://127.0.0.1:${await gw.listen()}`);
    try {
      const r = await send(client, '/prod/users');
      assert.equal(r.status, 503);
      await log.waitFor(1);
      assert.equal(log.records[0].integrationError, 'ECONNREFUSED');
    } finally {
      await client.close();
      await gw.close();
    }
  });

  it('answers 502 when the upstream sends something that is not HTTP', async () => {
    const net = await import('node:net');
    const sockets = new Set<import('node:net').Socket>();
    const garbage = net.createServer((s) => {
      sockets.add(s);
      s.end('SSH-2.0-not-http\r\n\r\n');
    });
    await new Promise<void>((resolve) => garbage.listen(0, '127.0.0.1', resolve));
    const port = (garbage.address() as { port: number }).port;
    const log = new LogCollector();
    const gw = createGateway(gatewaySpec([route('users', `http://127.0.0.1:${port}`, false)]), { log });
    const client = new Pool(`http://127.0.0.1:${await gw.listen()}`);
    try {
      const r = await send(client, '/prod/users');
      assert.equal(r.status, 502);
      assert.deepEqual(r.json, { message: 'Bad Gateway' });
      await log.waitFor(1);
      assert.equal(log.records[0].integrationError, 'HTTPParserError');
    } finally {
      await client.close();
      await gw.close();
      for (const s of sockets) s.destroy();
      await new Promise((resolve) => garbage.close(resolve));
    }
  });

  it('answers 504 when the upstream does not answer within the timeout', async () => {
    const silent = await startUpstream(() => {});
    const gw = createGateway(gatewaySpec([route('users', silent.origin, false)]), { log: new LogCollector(), upstreamTimeoutMs: 150 });
    const client = new Pool(`http://127.0.0.1:${await gw.listen()}`);
    try {
      const r = await send(client, '/prod/users');
      assert.equal(r.status, 504);
      assert.deepEqual(r.json, { message: 'Endpoint request timed out' });
    } finally {
      await client.close();
      await gw.close();
      await silent.close();
    }
  });

  it('lets an in-flight request finish when it is closed', async () => {
    let release: () => void = () => {};
    const arrived = new Promise<void>((resolve) => {
      release = resolve;
    });
    let answer: (() => void) | undefined;
    const slow = await startUpstream((_req, res) => {
      answer = () => res.end('late');
      release();
    });
    const gw = createGateway(gatewaySpec([route('users', slow.origin, false)]), { log: new LogCollector() });
    const client = new Pool(`http://127.0.0.1:${await gw.listen()}`);
    try {
      const pending = client.request({ path: '/prod/users', method: 'GET' });
      await arrived;
      assert.equal(gw.inFlight(), 1);
      const closing = gw.close();
      answer!();
      const res = await pending;
      assert.equal(res.statusCode, 200);
      assert.equal(await res.body.text(), 'late');
      await closing;
      assert.equal(gw.server.listening, false);
    } finally {
      await client.close();
      await slow.close();
    }
  });
});
