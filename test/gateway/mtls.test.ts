import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import type { TLSSocket } from 'node:tls';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { Pool } from 'undici';
import { createGateway } from '../../src/gateway/gateway.js';
import type { TlsMaterial } from '../../src/dataplane/tls-material.js';
import { createCa, issueLeaf, type IssuedCert } from '../../src/pki/issue.js';
import { gatewaySpec, LogCollector, route } from './helpers.js';

const spiffe = (sa: string) => `spiffe://cluster.local/ns/meshgw/sa/${sa}`;

interface MtlsServer {
  origin: string;
  close(): Promise<void>;
}

/** A STRICT mTLS upstream: it answers with the caller's URI SAN. */
async function startMtlsUpstream(ca: IssuedCert, leaf: IssuedCert): Promise<MtlsServer> {
  const server = https.createServer({ ca: ca.certPem, cert: leaf.certPem, key: leaf.keyPem, requestCert: true, rejectUnauthorized: true }, (req, res) => {
    const peer = (req.socket as TLSSocket).getPeerCertificate();
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ caller: peer.subjectaltname }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    origin: `https://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () => {
      server.closeAllConnections();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}

function material(ca: IssuedCert, leaf: IssuedCert): TlsMaterial {
  return { ca: ca.certPem, cert: leaf.certPem, key: leaf.keyPem };
}

describe('gateway to a STRICT mTLS upstream', () => {
  let meshCa: IssuedCert;
  let otherCa: IssuedCert;
  let gatewayLeaf: IssuedCert;
  let strangerLeaf: IssuedCert;
  let orders: MtlsServer;
  let impostor: MtlsServer;

  before(async () => {
    meshCa = await createCa({ commonName: 'test mesh CA', lifetimeDays: 1 });
    otherCa = await createCa({ commonName: 'another CA', lifetimeDays: 1 });
    gatewayLeaf = await issueLeaf(meshCa, { spiffeId: spiffe('gateway'), dnsName: 'gateway.meshgw.svc.cluster.local', lifetimeHours: 1 });
    strangerLeaf = await issueLeaf(otherCa, { spiffeId: spiffe('gateway'), dnsName: 'gateway.meshgw.svc.cluster.local', lifetimeHours: 1 });
    const ordersLeaf = await issueLeaf(meshCa, { spiffeId: spiffe('orders'), dnsName: 'orders.meshgw.svc.cluster.local', lifetimeHours: 1 });
    const productsLeaf = await issueLeaf(meshCa, { spiffeId: spiffe('products'), dnsName: 'products.meshgw.svc.cluster.local', lifetimeHours: 1 });
    orders = await startMtlsUpstream(meshCa, ordersLeaf);
    // Serves on a port the gateway believes is orders', with products' identity.
    impostor = await startMtlsUpstream(meshCa, productsLeaf);
  });
  after(async () => {
    await orders.close();
    await impostor.close();
  });

  it('reaches the upstream with its own certificate when the server carries the expected SPIFFE ID', async () => {
    const gw = createGateway(gatewaySpec([route('orders', orders.origin, false)]), { log: new LogCollector(), tlsMaterial: material(meshCa, gatewayLeaf) });
    const client = new Pool(`http://127.0.0.1:${await gw.listen()}`);
    try {
      const res = await client.request({ path: '/prod/orders', method: 'GET' });
      assert.equal(res.statusCode, 200);
      const body = (await res.body.json()) as { caller: string };
      assert.match(body.caller, /URI:spiffe:\/\/cluster\.local\/ns\/meshgw\/sa\/gateway/);
    } finally {
      await client.close();
      await gw.close();
    }
  });

  it('refuses a server whose SAN names another workload with 502', async () => {
    const log = new LogCollector();
    const gw = createGateway(gatewaySpec([route('orders', impostor.origin, false)]), { log, tlsMaterial: material(meshCa, gatewayLeaf) });
    const client = new Pool(`http://127.0.0.1:${await gw.listen()}`);
    try {
      const res = await client.request({ path: '/prod/orders', method: 'GET' });
      assert.equal(res.statusCode, 502);
      await res.body.dump();
      await log.waitFor(1);
      assert.equal(log.records[0].integrationError, 'ERR_MESH_SAN_MISMATCH');
    } finally {
      await client.close();
      await gw.close();
    }
  });

  it('fails with credentials from another CA, then serves after a reload with the mesh ones', async () => {
    const log = new LogCollector();
    const gw = createGateway(gatewaySpec([route('orders', orders.origin, false)]), { log, tlsMaterial: material(otherCa, strangerLeaf) });
    const client = new Pool(`http://127.0.0.1:${await gw.listen()}`);
    try {
      const before = await client.request({ path: '/prod/orders', method: 'GET' });
      await before.body.dump();
      assert.equal(before.statusCode, 502);
      await gw.reload(material(meshCa, gatewayLeaf));
      const res = await client.request({ path: '/prod/orders', method: 'GET' });
      await res.body.dump();
      assert.equal(res.statusCode, 200);
    } finally {
      await client.close();
      await gw.close();
    }
  });

  it('runs as a process: announces its port, reloads on SIGHUP and exits 0 on SIGTERM', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'meshgw-gw-'));
    try {
      const tls = { caFile: path.join(dir, 'ca.crt'), certFile: path.join(dir, 'tls.crt'), keyFile: path.join(dir, 'tls.key') };
      await writeFile(tls.caFile, meshCa.certPem);
      await writeFile(tls.certFile, gatewayLeaf.certPem);
      await writeFile(tls.keyFile, gatewayLeaf.keyPem, { mode: 0o600 });
      const specFile = path.join(dir, 'gateway.json');
      await writeFile(specFile, JSON.stringify({ ...gatewaySpec([route('orders', orders.origin, false)]), tls }), { mode: 0o600 });
      const main = fileURLToPath(new URL('../../src/gateway/main.js', import.meta.url));
      const child = spawn(process.execPath, [main, specFile], { stdio: ['ignore', 'pipe', 'inherit'] });
      const lines = createInterface({ input: child.stdout! })[Symbol.asyncIterator]();
      try {
        const first = JSON.parse((await lines.next()).value as string) as { event: string; port: number };
        assert.equal(first.event, 'listening');
        const client = new Pool(`http://127.0.0.1:${first.port}`);
        const res = await client.request({ path: '/prod/orders', method: 'GET' });
        await res.body.dump();
        assert.equal(res.statusCode, 200);
        const access = JSON.parse((await lines.next()).value as string) as { status: number; resourcePath: string };
        assert.deepEqual([access.status, access.resourcePath], [200, '/orders']);
        await client.close();
        child.kill('SIGHUP');
        assert.equal((JSON.parse((await lines.next()).value as string) as { event: string }).event, 'reloaded');
        child.kill('SIGTERM');
        const [code] = (await once(child, 'exit')) as [number | null];
        assert.equal(code, 0);
      } finally {
        if (child.exitCode === null) child.kill('SIGKILL');
      }
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
