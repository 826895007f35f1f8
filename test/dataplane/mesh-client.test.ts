// The mesh client against real servers on 127.0.0.1: a plain HTTP one, and a STRICT mTLS one
// with certificates from an in-memory CA written to disk (test/mesh/fixtures.ts).
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import http from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { forwardableRequestHeaders, forwardableResponseHeaders } from '../../src/dataplane/hop-by-hop.js';
import { SAN_MISMATCH_CODE } from '../../src/dataplane/identity.js';
import { MeshClient } from '../../src/dataplane/mesh-client.js';
import { loadTlsMaterial } from '../../src/dataplane/tls-material.js';
import { createTestPki, id, type TestPki } from '../mesh/fixtures.js';

const OPTIONS = { connections: 8, keepAliveTimeoutMs: 10_000, connectTimeoutMs: 2_000, requestTimeoutMs: 3_000, drainTimeoutMs: 200 };
const readText = (f: string) => readFile(f, 'utf8');

async function listen(server: http.Server | https.Server): Promise<string> {
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return `127.0.0.1:${(server.address() as AddressInfo).port}`;
}

describe('the mesh client', () => {
  let pki: TestPki;
  before(async () => (pki = await createTestPki()));
  after(() => pki.cleanup());

  it('opens its warm connections before any request, and a burst as large rides them without a new connection', async () => {
    const server = http.createServer((req, res) => req.resume().on('end', () => res.end(req.url)));
    let accepted = 0;
    server.on('connection', () => accepted++);
    const origin = `http://${await listen(server)}`;
    const client = new MeshClient(new Map([['app', { origin, expectedSpiffeId: id('app'), warmConnections: 4 }]]), undefined, OPTIONS);
    try {
      await client.warm();
      assert.equal(client.openConnections('app'), 4);
      const bodies = await Promise.all(Array.from({ length: 4 }, (_, i) => client.dispatcher('app')!.request({ path: `/${i}`, method: 'GET' }).then((r) => r.body.text())));
      assert.deepEqual(bodies.sort(), ['/0', '/1', '/2', '/3']);
      assert.equal(accepted, 4, 'no connection beyond the warm ones');
    } finally {
      await client.close();
      server.closeAllConnections();
      server.close();
    }
  });

  it('refuses a server without the expected SPIFFE ID, telling its counters hook, and never sends the request', async () => {
    const products = await loadTlsMaterial(await pki.files('products'), readText);
    const gateway = await loadTlsMaterial(await pki.files('gateway'), readText);
    let served = 0;
    const server = https.createServer({ ca: products.ca, cert: products.cert, key: products.key, requestCert: true, rejectUnauthorized: true }, (_req, res) => (served++, res.end('products')));
    const origin = `https://${await listen(server)}`;
    const failures: string[] = [];
    const connected: string[] = [];
    const client = new MeshClient(new Map([['orders', { origin, expectedSpiffeId: id('orders'), warmConnections: 2 }]]), gateway, OPTIONS, {
      connected: (name) => connected.push(name),
      failed: (name, _u, err) => failures.push(`${name} ${(err as Error & { code?: string }).code}`),
    });
    try {
      await client.warm();
      assert.deepEqual(failures, [`orders ${SAN_MISMATCH_CODE}`, `orders ${SAN_MISMATCH_CODE}`]);
      await assert.rejects(client.dispatcher('orders')!.request({ path: '/', method: 'GET' }), (err: Error & { code?: string; cause?: { code?: string } }) => [err.code, err.cause?.code].includes(SAN_MISMATCH_CODE));
      assert.deepEqual(connected, []);
      assert.equal(served, 0);
    } finally {
      await client.close();
      server.closeAllConnections();
      server.close();
    }
  });
});

describe('the hop-by-hop filter', () => {
  it('drops the fixed hop-by-hop headers, those the Connection header names (RFC 9110 §7.6.1) and the proxy-only ones', () => {
    const out = forwardableRequestHeaders(
      { host: 'a', connection: 'keep-alive, X-Secret-Hop', 'x-secret-hop': '1', 'keep-alive': 'timeout=5', te: 'trailers', 'x-api-key': 'k', accept: 'application/json' },
      new Set(['x-api-key']),
    );
    assert.deepEqual(out, { accept: 'application/json' });
    assert.deepEqual(forwardableResponseHeaders({ connection: 'x-upstream-hop', 'x-upstream-hop': 'y', 'transfer-encoding': 'chunked', 'content-type': 'text/plain' }), { 'content-type': 'text/plain' });
  });
});
