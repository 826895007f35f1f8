/**
 * The sidecar's TLS policy against real TLS peers (node:tls clients and servers over loopback,
 * OpenSSL 3 underneath): Istio's cipher list, no renegotiation, exactly one URI SAN, and a
 * leaf-signed forgery counted as a verification failure. Certificates come from src/pki and
 * test/mesh/forged-certs.ts.
 */
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import tls from 'node:tls';
import { after, before, describe, it } from 'node:test';
import type { IssuedCert } from '../../src/pki/issue.js';
import { probe } from '../../src/mesh/probe.js';
import { issueWithUris } from './forged-certs.js';
import { callEgress, createTestPki, egressTo, getJson, id, sidecarSpec, startApp, startSidecar, statsDelta, type RunningSidecar, type TestApp, type TestPki } from './fixtures.js';

type Handshake = { type: 'secure'; socket: tls.TLSSocket; cipher: string; version: string | null } | { type: 'refused'; error: string };

describe('sidecar TLS policy', () => {
  let pki: TestPki;
  let app: TestApp;
  let orders: RunningSidecar;
  let gateway: IssuedCert;

  before(async () => {
    pki = await createTestPki();
    app = await startApp('orders');
    orders = await startSidecar(sidecarSpec('orders', await pki.files('orders'), app.socketPath, [id('gateway')]));
    gateway = await pki.leaf('gateway');
  });

  after(async () => {
    await orders?.stop();
    await app?.close();
    await pki?.cleanup();
  });

  /** A TLS client with the gateway's (valid) certificate and the given protocol options. */
  function handshake(options: tls.ConnectionOptions): Promise<Handshake> {
    return new Promise((resolve) => {
      const socket = tls.connect({ host: '127.0.0.1', port: orders.addr.inboundPort, ca: pki.ca.certPem, cert: gateway.certPem, key: gateway.keyPem, checkServerIdentity: () => undefined, ...options });
      socket.once('secureConnect', () => resolve({ type: 'secure', socket, cipher: socket.getCipher().name, version: socket.getProtocol() }));
      socket.once('error', (err: NodeJS.ErrnoException) => resolve({ type: 'refused', error: err.code ?? err.message }));
    });
  }

  const stats = () => orders.sidecar.counters.snapshot();

  for (const cipher of ['ECDHE-ECDSA-AES128-SHA', 'ECDHE-ECDSA-AES256-SHA', 'ECDHE-ECDSA-AES128-CCM8', 'ECDHE-ECDSA-AES256-CCM']) {
    it(`refuses a TLS 1.2 client that offers only ${cipher} and counts ssl.connection_error`, async () => {
      const before = stats();
      const outcome = await handshake({ maxVersion: 'TLSv1.2', ciphers: cipher });
      assert.equal(outcome.type, 'refused', `negotiated ${outcome.type === 'secure' ? outcome.cipher : ''}`);
      assert.deepEqual(statsDelta(before, stats()), { 'ssl.connection_error': 1 });
    });
  }

  it('refuses TLS 1.3 with only the CCM-8 suite', async () => {
    const outcome = await handshake({ minVersion: 'TLSv1.3', ciphers: 'TLS_AES_128_CCM_8_SHA256' });
    assert.equal(outcome.type, 'refused');
  });

  it("accepts Istio's suites: TLS 1.2 ECDHE with AES-GCM or ChaCha20-Poly1305, and TLS 1.3", async () => {
    for (const cipher of ['ECDHE-ECDSA-AES128-GCM-SHA256', 'ECDHE-ECDSA-AES256-GCM-SHA384', 'ECDHE-ECDSA-CHACHA20-POLY1305']) {
      const outcome = await handshake({ maxVersion: 'TLSv1.2', ciphers: cipher });
      assert.equal(outcome.type === 'secure' && outcome.cipher, cipher);
      if (outcome.type === 'secure') outcome.socket.destroy();
    }
    const t13 = await handshake({});
    assert.equal(t13.type === 'secure' && t13.version, 'TLSv1.3');
    if (t13.type === 'secure') t13.socket.destroy();
  });

  it('refuses a client-initiated TLS 1.2 renegotiation', async () => {
    const outcome = await handshake({ maxVersion: 'TLSv1.2' });
    assert.equal(outcome.type, 'secure');
    if (outcome.type !== 'secure') return;
    const { socket } = outcome;
    const result = await new Promise<string>((resolve) => {
      socket.once('error', (err: NodeJS.ErrnoException) => resolve(`error ${err.code ?? err.message}`));
      const started = socket.renegotiate({ rejectUnauthorized: true }, (err) => resolve(err ? `error ${(err as NodeJS.ErrnoException).code ?? err.message}` : 'renegotiated'));
      if (!started) resolve('not started');
    });
    socket.destroy();
    assert.match(result, /^error /, `the server went along: ${result}`);
  });

  it('refuses a CA-signed certificate with two URI SANs and counts ssl.fail_verify_san', async () => {
    const twoNames = await issueWithUris(pki.ca, [id('gateway'), id('admin')]);
    const seen = app.seen.length;
    const before = stats();
    const outcome = await probe({ url: orders.inboundUrl, path: '/orders', ca: pki.ca.certPem, cert: twoNames.certPem, key: twoNames.keyPem });
    assert.equal(outcome.type, 'refused', JSON.stringify(outcome));
    assert.deepEqual(statsDelta(before, stats()), { 'ssl.fail_verify_san': 1 });
    assert.equal(app.seen.length, seen, 'the app saw nothing');
    const refusals = (await getJson<{ reason: string; error: string }[]>(`${orders.adminUrl}/refusals`)).body;
    const last = refusals.at(-1);
    assert.deepEqual(last && { reason: last.reason, error: last.error }, { reason: 'ssl.fail_verify_san', error: 'certificate has 2 URI SANs' });
  });

  it('counts a leaf-signed forgery (chain through a workload leaf) as ssl.fail_verify_error', async () => {
    const leaf = await pki.leaf('users');
    const forged = await issueWithUris(leaf, [id('gateway')]);
    const before = stats();
    // Presenting the leaf as the "intermediate" is what makes OpenSSL answer UNSPECIFIED rather than a named code.
    const outcome = await probe({ url: orders.inboundUrl, path: '/orders', ca: pki.ca.certPem, cert: `${forged.certPem.trim()}\n${leaf.certPem}`, key: forged.keyPem });
    assert.equal(outcome.type, 'refused', JSON.stringify(outcome));
    assert.deepEqual(statsDelta(before, stats()), { 'ssl.fail_verify_error': 1 });
  });
});

describe('mesh client TLS policy (egress)', () => {
  let pki: TestPki;
  const cleanups: (() => Promise<unknown>)[] = [];

  before(async () => {
    pki = await createTestPki();
  });

  after(async () => {
    for (const c of cleanups.reverse()) await c();
    await pki?.cleanup();
  });

  async function ordersTo(origin: string): Promise<RunningSidecar> {
    const app = await startApp('orders');
    const sc = await startSidecar(sidecarSpec('orders', await pki.files('orders'), app.socketPath, [id('gateway')], [egressTo('users', origin, id('users'))]));
    cleanups.push(() => sc.stop(), () => app.close());
    return sc;
  }

  it('refuses an upstream whose certificate carries the expected SPIFFE ID among two URI SANs', async () => {
    const usersApp = await startApp('users');
    const twoNames = await issueWithUris(pki.ca, [id('users'), id('products')]);
    const files = await pki.files('users');
    await writeFile(files.certFile, twoNames.certPem);
    await writeFile(files.keyFile, twoNames.keyPem, { mode: 0o600 });
    const users = await startSidecar(sidecarSpec('users', files, usersApp.socketPath, [id('orders')]));
    cleanups.push(() => users.stop(), () => usersApp.close());
    const orders = await ordersTo(users.inboundUrl);
    const res = await callEgress(orders.addr.egress.users, '/users/1');
    assert.equal(res.status, 502, res.body);
    assert.equal((JSON.parse(res.body) as { error: { code: string } }).error.code, 'UPSTREAM_IDENTITY_MISMATCH');
    assert.ok(orders.sidecar.counters.get('cluster.users.ssl.fail_verify_san') >= 1);
    assert.equal(usersApp.seen.length, 0);
  });

  it('refuses an upstream that offers only a CBC-SHA1 suite', async () => {
    const users = await pki.leaf('users');
    const server = tls.createServer({ cert: users.certPem, key: users.keyPem, ca: pki.ca.certPem, maxVersion: 'TLSv1.2', ciphers: 'ECDHE-ECDSA-AES128-SHA' }, (s) => s.end('HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok'));
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    cleanups.push(() => new Promise<void>((r) => server.close(() => r())));
    let handshakes = 0;
    server.on('secureConnection', () => handshakes++);
    const orders = await ordersTo(`https://127.0.0.1:${(server.address() as { port: number }).port}`);
    const res = await callEgress(orders.addr.egress.users, '/users/1');
    assert.equal(res.status, 502, res.body);
    assert.equal((JSON.parse(res.body) as { error: { code: string } }).error.code, 'UPSTREAM_TLS_FAILED');
    assert.equal(handshakes, 0);
  });
});
