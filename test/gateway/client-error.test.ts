// Real components: the gateway's, a sidecar's (egress over a Unix socket, inbound over mTLS with a
// mesh-CA certificate) and the products service process's Node HTTP servers, driven over raw
// sockets so that Node's own parser refuses the requests before any handler runs.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import net from 'node:net';
import { createInterface } from 'node:readline';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { answerClientError, clientErrorStatus } from '../../src/dataplane/client-error.js';
import { createGateway, type GatewayHandle } from '../../src/gateway/gateway.js';
import { closedPort, createTestPki, egressTo, id, sidecarSpec, startApp, startSidecar, type RunningSidecar, type TestApp, type TestPki } from '../mesh/fixtures.js';
import { gatewaySpec, LogCollector, route, startUpstream, type FakeUpstream } from './helpers.js';
import { GARBAGE_REQUEST, oversizedHeaderRequest, parseRawAnswer, rawExchange, type RawTarget } from './raw-http.js';

/** The two parser refusals every meshgw server must answer in JSON, then close. */
async function assertJsonRefusals(target: RawTarget, path: string): Promise<void> {
  const garbage = await rawExchange(target, GARBAGE_REQUEST);
  const bad = parseRawAnswer(garbage.raw);
  assert.equal(bad.status, 400, garbage.raw);
  assert.equal(bad.headers['content-type'], 'application/json');
  assert.deepEqual(JSON.parse(bad.body), { message: 'Bad Request' });
  assert.equal(garbage.closedByServer, true, 'the connection is closed after the answer');

  const oversized = await rawExchange(target, oversizedHeaderRequest(path));
  const big = parseRawAnswer(oversized.raw);
  assert.equal(big.status, 431, oversized.raw.slice(0, 200));
  assert.equal(big.headers['content-type'], 'application/json');
  assert.deepEqual(JSON.parse(big.body), { message: 'Request Header Fields Too Large' });
  assert.equal(oversized.closedByServer, true);
}

describe('parser-level refusals answer in JSON', () => {
  it('answers a garbage request line with 400 and 20 KB of headers with 431, in JSON, at the gateway', async () => {
    const upstream: FakeUpstream = await startUpstream();
    const gw: GatewayHandle = createGateway(gatewaySpec([route('users', upstream.origin, false)]), { log: new LogCollector() });
    try {
      const port = await gw.listen();
      await assertJsonRefusals({ port }, '/prod/users');
      assert.equal(upstream.seen.length, 0, 'nothing reached the upstream');
    } finally {
      await gw.close();
      await upstream.close();
    }
  });

  it('refuses headers past API Gateway\'s 10240 bytes at the gateway, under Node\'s 16 KiB default', async () => {
    const upstream = await startUpstream();
    const gw = createGateway(gatewaySpec([route('users', upstream.origin, false)]), { log: new LogCollector() });
    try {
      const port = await gw.listen();
      const { raw } = await rawExchange({ port }, oversizedHeaderRequest('/prod/users', 12 * 1024));
      assert.equal(parseRawAnswer(raw).status, 431, raw.slice(0, 200));
      const fits = await rawExchange({ port }, `GET /prod/users HTTP/1.1\r\nHost: x\r\nConnection: close\r\nx-padding: ${'a'.repeat(9 * 1024)}\r\n\r\n`);
      assert.equal(parseRawAnswer(fits.raw).status, 200, fits.raw.slice(0, 200));
    } finally {
      await gw.close();
      await upstream.close();
    }
  });

  it('never throws when the connection is already gone', () => {
    const gone = new net.Socket();
    gone.destroy();
    assert.doesNotThrow(() => answerClientError(Object.assign(new Error('parse'), { code: 'HPE_INVALID_METHOD' }), gone));
    assert.doesNotThrow(() => answerClientError(Object.assign(new Error('reset'), { code: 'ECONNRESET' }), new net.Socket()));
    assert.equal(clientErrorStatus(Object.assign(new Error('late'), { code: 'ERR_HTTP_REQUEST_TIMEOUT' })), 408);
  });
});

describe('parser-level refusals at a sidecar', () => {
  let pki: TestPki;
  let app: TestApp;
  let sidecar: RunningSidecar;

  before(async () => {
    pki = await createTestPki();
    app = await startApp('orders');
    const spec = sidecarSpec('orders', await pki.files('orders'), app.socketPath, [id('gateway')], [egressTo('users', `https://127.0.0.1:${await closedPort()}`, id('users'))]);
    sidecar = await startSidecar(spec);
  });
  after(async () => {
    await sidecar?.stop();
    await app?.close();
    await pki?.cleanup();
  });

  it('answers 400 and 431 in JSON on the egress listener', async () => {
    await assertJsonRefusals({ socketPath: sidecar.addr.egress.users }, '/users/1');
  });

  it('answers 400 and 431 in JSON on the inbound mTLS listener, to a caller with a mesh certificate', async () => {
    const gatewayLeaf = await pki.leaf('gateway');
    const target: RawTarget = {
      tls: {
        host: '127.0.0.1',
        port: sidecar.addr.inboundPort,
        ca: pki.ca.certPem,
        cert: gatewayLeaf.certPem,
        key: gatewayLeaf.keyPem,
        checkServerIdentity: () => undefined,
      },
    };
    await assertJsonRefusals(target, '/orders');
    assert.equal(app.seen.length, 0, 'nothing reached the app');
  });
});

describe('parser-level refusals at a service process', { timeout: 20_000 }, () => {
  it('answers 400 and 431 in JSON from the products service', async () => {
    const entry = fileURLToPath(new URL('../../services/products/main.js', import.meta.url));
    const child = spawn(process.execPath, [entry], { env: { PATH: process.env.PATH ?? '', HOST: '127.0.0.1', PORT: '0' }, stdio: ['ignore', 'ignore', 'pipe'] });
    try {
      const port = await new Promise<number>((resolve, reject) => {
        createInterface({ input: child.stderr! }).on('line', (line) => {
          const event = JSON.parse(line) as { event?: string; port?: number };
          if (event.event === 'listening') resolve(Number(event.port));
        });
        child.once('exit', (code) => reject(new Error(`products exited ${code} before listening`)));
      });
      await assertJsonRefusals({ port }, '/products');
    } finally {
      child.kill('SIGTERM');
    }
  });
});
