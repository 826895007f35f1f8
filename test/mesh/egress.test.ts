import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  callEgress,
  closedPort,
  createTestPki,
  egressTo,
  id,
  sidecarSpec,
  startApp,
  startRecordingRelay,
  startSidecar,
  statsDelta,
  type RunningSidecar,
  type TestApp,
  type TestPki,
} from './fixtures.js';

describe('sidecar egress (mTLS to a backend)', () => {
  let pki: TestPki;
  let usersApp: TestApp;
  let ordersApp: TestApp;
  let users: RunningSidecar;
  const cleanups: (() => Promise<void>)[] = [];

  before(async () => {
    pki = await createTestPki();
    usersApp = await startApp('users');
    ordersApp = await startApp('orders');
    users = await startSidecar(sidecarSpec('users', await pki.files('users'), usersApp.socketPath, [id('gateway'), id('orders')]));
  });

  after(async () => {
    for (const c of cleanups.reverse()) await c();
    await users?.stop();
    await usersApp?.close();
    await ordersApp?.close();
    await pki?.cleanup();
  });

  async function ordersWithEgress(backend: string, origin: string, expectedSpiffeId: string, deps = {}): Promise<RunningSidecar> {
    const files = await pki.files('orders');
    const sc = await startSidecar(sidecarSpec('orders', files, ordersApp.socketPath, [id('gateway')], [egressTo(backend, origin, expectedSpiffeId)]), deps);
    cleanups.push(() => sc.stop());
    return sc;
  }

  const stats = (sc: RunningSidecar) => sc.sidecar.counters.snapshot();

  it("carries an app's request to its backend over mTLS, and the backend sees the caller's identity", async () => {
    const orders = await ordersWithEgress('users', users.inboundUrl, id('users'));
    const usersBefore = stats(users);
    const res = await callEgress(orders.addr.egress.users, '/users/42', { headers: { 'x-meshgw-peer-identity': 'spiffe://forged', 'x-forwarded-client-cert': 'By=spiffe://x;URI=spiffe://forged' } });
    assert.equal(res.status, 200, res.body);
    assert.equal((JSON.parse(res.body) as { peer: string }).peer, id('orders'));
    assert.equal(stats(orders)['cluster.users.ssl.handshake'], 1);
    assert.equal(stats(orders)[`cluster.users.ssl.handshake.peer.${id('users')}`], 1);
    const d = statsDelta(usersBefore, stats(users));
    assert.equal(d[`ssl.handshake.peer.${id('orders')}`], 1);
    assert.equal(d[`rbac.allowed.peer.${id('orders')}`], 1);

    const again = await callEgress(orders.addr.egress.users, '/users/43');
    assert.equal(again.status, 200);
    assert.equal(stats(orders)['cluster.users.ssl.handshake'], 1, 'the second request reused the keep-alive connection');
  });

  it('refuses an upstream whose certificate names another identity, answers 502 and counts ssl.fail_verify_san', async () => {
    // The "products" upstream is really users' sidecar: right CA, wrong SPIFFE ID.
    const orders = await ordersWithEgress('products', users.inboundUrl, id('products'));
    const seen = usersApp.seen.length;
    const res = await callEgress(orders.addr.egress.products, '/products');
    assert.equal(res.status, 502);
    assert.equal((JSON.parse(res.body) as { error: { code: string } }).error.code, 'UPSTREAM_IDENTITY_MISMATCH');
    assert.equal(stats(orders)['cluster.products.ssl.fail_verify_san'], 1);
    assert.equal(stats(orders)['cluster.products.ssl.handshake'], 0);
    assert.equal(usersApp.seen.length, seen, 'nothing reached the wrong app');
  });

  it("answers 503 when the upstream is not listening, without naming the upstream's address", async () => {
    const port = await closedPort();
    const orders = await ordersWithEgress('users', `https://127.0.0.1:${port}`, id('users'));
    const res = await callEgress(orders.addr.egress.users, '/users');
    assert.equal(res.status, 503);
    assert.equal((JSON.parse(res.body) as { error: { code: string } }).error.code, 'UPSTREAM_UNAVAILABLE');
    assert.ok(!res.body.includes(String(port)) && !res.body.includes('ECONNREFUSED'), res.body);
    assert.equal(stats(orders)['cluster.users.upstream_rq_error'], 1);
  });

  it('answers 504 instead of hanging when the upstream does not answer in time', async () => {
    let release: (() => void) | undefined;
    const slowApp = await startApp('slow', (_req, res) => {
      release = () => res.end('late');
    });
    const slow = await startSidecar(sidecarSpec('users', await pki.files('users'), slowApp.socketPath, [id('orders')]));
    cleanups.push(async () => {
      release?.();
      await slow.stop();
      await slowApp.close();
    });
    const orders = await ordersWithEgress('users', slow.inboundUrl, id('users'), { requestTimeoutMs: 300 });
    const res = await callEgress(orders.addr.egress.users, '/users');
    assert.equal(res.status, 504);
    assert.equal((JSON.parse(res.body) as { error: { code: string } }).error.code, 'UPSTREAM_TIMEOUT');
  });

  it('puts no plaintext on the wire between two sidecars', async () => {
    const relay = await startRecordingRelay(users.addr.inboundPort);
    cleanups.push(() => relay.close());
    const orders = await ordersWithEgress('users', `https://127.0.0.1:${relay.port}`, id('users'));
    const secret = JSON.stringify({ username: 'wiretap-canary-7f3a', password: 'hunter2-canary' });
    const res = await callEgress(orders.addr.egress.users, '/users/login', { method: 'POST', body: secret });
    assert.equal(res.status, 200);
    assert.equal(usersApp.seen.at(-1)?.body, secret, 'the app received the body intact');
    const wire = relay.recorded();
    assert.ok(wire.length > 500, `the relay saw traffic (${wire.length} bytes)`);
    assert.equal(wire[0], 0x16, 'the first byte is a TLS handshake record');
    for (const needle of ['wiretap-canary-7f3a', 'hunter2-canary', '/users/login', 'x-meshgw-peer-identity', '"app":"users"']) {
      assert.equal(wire.indexOf(needle), -1, `"${needle}" is not visible on the wire`);
    }
  });
});
