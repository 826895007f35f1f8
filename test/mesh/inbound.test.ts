import assert from 'node:assert/strict';
import { X509Certificate, createHash } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { createCa, issueLeaf } from '../../src/pki/issue.js';
import { probe } from '../../src/mesh/probe.js';
import { createTestPki, getJson, id, sidecarSpec, startApp, startSidecar, type RunningSidecar, type TestApp, type TestPki } from './fixtures.js';

describe('sidecar inbound (STRICT mTLS)', () => {
  let pki: TestPki;
  let app: TestApp;
  let orders: RunningSidecar;
  let gatewayCert: { cert: string; key: string };
  let usersCert: { cert: string; key: string };

  before(async () => {
    pki = await createTestPki();
    app = await startApp('orders');
    orders = await startSidecar(sidecarSpec('orders', await pki.files('orders'), app.socketPath, [id('gateway')]));
    const g = await pki.leaf('gateway');
    gatewayCert = { cert: g.certPem, key: g.keyPem };
    const u = await pki.leaf('users');
    usersCert = { cert: u.certPem, key: u.keyPem };
  });

  after(async () => {
    await orders?.stop();
    await app?.close();
    await pki?.cleanup();
  });

  async function stats(): Promise<Record<string, number>> {
    return (await getJson<Record<string, number>>(`${orders.adminUrl}/stats`)).body;
  }

  async function delta(run: () => Promise<unknown>): Promise<Record<string, number>> {
    const before = await stats();
    await run();
    const after = await stats();
    const out: Record<string, number> = {};
    for (const k of new Set([...Object.keys(before), ...Object.keys(after)])) {
      const d = (after[k] ?? 0) - (before[k] ?? 0);
      if (d !== 0) out[k] = d;
    }
    return out;
  }

  it('passes an allowed caller to the app with the verified XFCC, replacing the copies a client sent', async () => {
    const seenBefore = app.seen.length;
    let outcome: Awaited<ReturnType<typeof probe>> | undefined;
    const forged = { 'x-meshgw-peer-identity': 'spiffe://evil/ns/x/sa/admin', 'x-forwarded-client-cert': 'By=spiffe://evil;Hash=00;URI=spiffe://evil/ns/x/sa/admin' };
    const d = await delta(async () => {
      outcome = await probe({ url: orders.inboundUrl, path: '/orders', ca: pki.ca.certPem, ...gatewayCert, headers: forged });
    });
    assert.equal(outcome?.type, 'response');
    assert.equal(outcome.type === 'response' && outcome.status, 200);
    assert.equal(outcome.type === 'response' && outcome.serverIdentity, id('orders'));
    assert.equal(app.seen.length, seenBefore + 1);
    // Envoy's SANITIZE_SET: one element, By = the callee, Hash = SHA-256 of the caller's certificate, URI = the caller.
    const gatewayDer = new X509Certificate(gatewayCert.cert).raw;
    const expected = `By=${id('orders')};Hash=${createHash('sha256').update(gatewayDer).digest('hex')};URI=${id('gateway')}`;
    assert.equal(app.seen.at(-1)?.headers['x-forwarded-client-cert'], expected);
    assert.equal(app.seen.at(-1)?.headers['x-meshgw-peer-identity'], undefined, 'the old identity header is dropped, not passed on');
    assert.equal(outcome.type === 'response' && (JSON.parse(outcome.body) as { peer: string }).peer, id('gateway'));
    assert.equal(d['ssl.handshake'], 1);
    assert.equal(d[`ssl.handshake.peer.${id('gateway')}`], 1);
    assert.equal(d['rbac.allowed'], 1);
  });

  it('streams a request body to the app unchanged', async () => {
    const body = JSON.stringify({ productId: 'p-1', quantity: 2 });
    const outcome = await probe({ url: orders.inboundUrl, method: 'POST', path: '/orders', body, ca: pki.ca.certPem, ...gatewayCert });
    assert.equal(outcome.type === 'response' && outcome.status, 200);
    assert.equal(app.seen.at(-1)?.body, body);
    assert.equal(app.seen.at(-1)?.method, 'POST');
  });

  it('refuses a client without a certificate and counts ssl.fail_verify_no_cert', async () => {
    const seenBefore = app.seen.length;
    let outcome: Awaited<ReturnType<typeof probe>> | undefined;
    const d = await delta(async () => (outcome = await probe({ url: orders.inboundUrl, path: '/orders', ca: pki.ca.certPem })));
    assert.equal(outcome?.type, 'refused', JSON.stringify(outcome));
    assert.deepEqual(d, { 'ssl.fail_verify_no_cert': 1 });
    assert.equal(app.seen.length, seenBefore, 'the app saw nothing');
  });

  it('refuses a certificate from a foreign CA and counts ssl.fail_verify_error', async () => {
    const foreignCa = await createCa({ commonName: 'someone else', lifetimeDays: 1 });
    const foreign = await issueLeaf(foreignCa, { spiffeId: id('gateway'), dnsName: 'gateway.meshgw.svc.cluster.local', lifetimeHours: 1 });
    let outcome: Awaited<ReturnType<typeof probe>> | undefined;
    const d = await delta(async () => (outcome = await probe({ url: orders.inboundUrl, path: '/orders', ca: pki.ca.certPem, cert: foreign.certPem, key: foreign.keyPem })));
    assert.equal(outcome?.type, 'refused', JSON.stringify(outcome));
    assert.deepEqual(d, { 'ssl.fail_verify_error': 1 });
  });

  it('refuses an expired certificate issued by the mesh CA and counts ssl.fail_verify_error', async () => {
    const expired = await pki.leaf('gateway', { notBefore: new Date(Date.now() - 3 * 3_600_000), lifetimeHours: 1 });
    assert.ok(expired.notAfter.getTime() < Date.now());
    let outcome: Awaited<ReturnType<typeof probe>> | undefined;
    const d = await delta(async () => (outcome = await probe({ url: orders.inboundUrl, path: '/orders', ca: pki.ca.certPem, cert: expired.certPem, key: expired.keyPem })));
    assert.equal(outcome?.type, 'refused', JSON.stringify(outcome));
    assert.deepEqual(d, { 'ssl.fail_verify_error': 1 });
  });

  it('answers 403 RBAC_DENIED to a valid identity that may not call and counts rbac.denied', async () => {
    const seenBefore = app.seen.length;
    let outcome: Awaited<ReturnType<typeof probe>> | undefined;
    const d = await delta(async () => (outcome = await probe({ url: orders.inboundUrl, path: '/orders', ca: pki.ca.certPem, ...usersCert })));
    assert.equal(outcome?.type, 'response');
    assert.equal(outcome.type === 'response' && outcome.status, 403);
    assert.equal(outcome.type === 'response' && (JSON.parse(outcome.body) as { error: { code: string } }).error.code, 'RBAC_DENIED');
    assert.equal(d['rbac.denied'], 1);
    assert.equal(d['rbac.allowed'], undefined);
    assert.equal(app.seen.length, seenBefore);
  });

  it('refuses plaintext HTTP and counts ssl.connection_error', async () => {
    let outcome: Awaited<ReturnType<typeof probe>> | undefined;
    const d = await delta(async () => (outcome = await probe({ url: orders.inboundUrl.replace('https:', 'http:'), path: '/orders' })));
    assert.equal(outcome?.type, 'refused', JSON.stringify(outcome));
    assert.deepEqual(d, { 'ssl.connection_error': 1 });
  });

  it('reports STRICT, the allowed callers and its certificate in /config_dump', async () => {
    const { status, body } = await getJson<{ inbound: { mode: string; allowedCallers: string[]; address: string }; certificate: { identity: string }; spiffeId: string }>(`${orders.adminUrl}/config_dump`);
    assert.equal(status, 200);
    assert.equal(body.inbound.mode, 'STRICT');
    assert.deepEqual(body.inbound.allowedCallers, [id('gateway')]);
    assert.equal(body.inbound.address, `127.0.0.1:${orders.addr.inboundPort}`);
    assert.equal(body.certificate.identity, id('orders'));
    assert.ok(!JSON.stringify(body).includes('PRIVATE KEY'));
    assert.equal((await getJson<{ ready: boolean }>(`${orders.adminUrl}/ready`)).status, 200);
  });
});

describe('a PERMISSIVE (misconfigured) sidecar', () => {
  it('lets a client without a certificate finish the handshake, so STRICT is what refuses it', async () => {
    const pki = await createTestPki();
    const app = await startApp('users');
    const users = await startSidecar(sidecarSpec('users', await pki.files('users'), app.socketPath, [id('gateway')]), { mode: 'PERMISSIVE' });
    try {
      const outcome = await probe({ url: users.inboundUrl, path: '/users', ca: pki.ca.certPem });
      assert.equal(outcome.type, 'response');
      assert.equal(outcome.type === 'response' && outcome.status, 403, 'no identity: RBAC still denies');
      const stats = (await getJson<Record<string, number>>(`${users.adminUrl}/stats`)).body;
      assert.equal(stats['ssl.fail_verify_no_cert'], 0);
    } finally {
      await users.stop();
      await app.close();
      await pki.cleanup();
    }
  });
});
