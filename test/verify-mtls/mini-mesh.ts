/**
 * A small real mesh for the verify mtls tests, in this process: tiny users / products / orders
 * apps, a meshgw sidecar in front of each, and a minimal gateway that checks x-api-key and calls
 * the services over mTLS with the gateway's certificate. The PKI is the real on-disk store.
 */
import { mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import http from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Pool, request } from 'undici';
import { parseConfigText } from '../../src/config/load.js';
import type { MeshgwConfig } from '../../src/config/schema.js';
import { GATEWAY_WORKLOAD, authorizationTable, routeFor, spiffeId } from '../../src/config/topology.js';
import type { MeshUpstream } from '../../src/dataplane/contracts.js';
import { forwardRequest, sendJsonError } from '../../src/dataplane/forward.js';
import { MeshClient } from '../../src/dataplane/mesh-client.js';
import { loadTlsMaterial } from '../../src/dataplane/tls-material.js';
import type { InboundMode } from '../../src/mesh/inbound.js';
import { createSidecar, type Sidecar } from '../../src/mesh/sidecar.js';
import { workloadTlsFiles } from '../../src/pki/files.js';
import { ensureMeshPki } from '../../src/pki/store.js';
import type { SidecarSpec } from '../../src/mesh/spec.js';
import type { LocalMtlsContext } from '../../src/verify/mtls/index.js';

export interface MiniMeshOptions {
  /** Per service: callers (workload names) its sidecar admits, instead of the authorization table. */
  allowedCallers?: Record<string, string[]>;
  mode?: Record<string, InboundMode>;
  /** A service whose app also listens on a TCP port (a way around the mesh, for the listener check to find). */
  leakApp?: string;
}

export interface MiniMesh {
  ctx: LocalMtlsContext;
  config: MeshgwConfig;
  stateDir: string;
  sidecars: Record<string, Sidecar>;
  close(): Promise<void>;
}

const API_KEY = 'mini-mesh-standard-key';

function json(res: http.ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

function readBody(req: http.IncomingMessage): Promise<Record<string, unknown>> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      try {
        resolve(chunks.length ? (JSON.parse(Buffer.concat(chunks).toString('utf8')) as Record<string, unknown>) : {});
      } catch {
        resolve({});
      }
    });
  });
}

function usersApp(): http.RequestListener {
  const users = new Map<string, string>();
  return (req, res) =>
    void (async () => {
      const body = await readBody(req);
      if (req.method === 'POST' && req.url === '/users') {
        users.set(String(body.username), String(body.password));
        return json(res, 201, { username: body.username });
      }
      if (req.method === 'POST' && req.url === '/users/login') {
        if (users.get(String(body.username)) !== String(body.password)) return json(res, 401, { error: { code: 'BAD_LOGIN', message: 'no' } });
        return json(res, 200, { token: `tok.${String(body.username)}`, expiresIn: 3600 });
      }
      if (req.method === 'GET' && req.url === '/users/me') {
        const name = (req.headers.authorization ?? '').replace(/^Bearer tok\./, '');
        return users.has(name) ? json(res, 200, { username: name }) : json(res, 401, { error: { code: 'UNAUTHENTICATED', message: 'no' } });
      }
      json(res, 404, { error: { code: 'NOT_FOUND', message: req.url } });
    })();
}

function productsApp(): http.RequestListener {
  return (req, res) => {
    req.resume();
    if (req.url === '/products') return json(res, 200, { products: [{ id: 'p-1', name: 'widget' }] });
    if (req.url === '/products/p-1') return json(res, 200, { id: 'p-1', name: 'widget' });
    json(res, 404, { error: { code: 'NOT_FOUND', message: req.url } });
  };
}

/** orders authenticates through users and checks the product through products, both via its egress sockets. */
function ordersApp(egress: { users?: Pool; products?: Pool }): http.RequestListener {
  return (req, res) =>
    void (async () => {
      const body = await readBody(req);
      if (req.method !== 'POST' || req.url !== '/orders') return json(res, 404, { error: { code: 'NOT_FOUND', message: req.url } });
      const me = await request('http://users/users/me', { dispatcher: egress.users, headers: { authorization: req.headers.authorization ?? '' }, headersTimeout: 5_000 });
      await me.body.dump();
      if (me.statusCode !== 200) return json(res, me.statusCode === 401 ? 401 : 502, { error: { code: 'USERS_SAID', message: String(me.statusCode) } });
      const product = await request(`http://products/products/${String(body.productId)}`, { dispatcher: egress.products, headersTimeout: 5_000 });
      await product.body.dump();
      if (product.statusCode !== 200) return json(res, 502, { error: { code: 'PRODUCTS_SAID', message: String(product.statusCode) } });
      json(res, 201, { id: 'o-1', productId: body.productId, quantity: body.quantity });
    })();
}

async function listen(server: http.Server, socketPath?: string): Promise<number> {
  if (socketPath) {
    await new Promise<void>((r) => server.listen(socketPath, r));
    return 0;
  }
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return (server.address() as { port: number }).port;
}

function closeServer(server: http.Server): Promise<void> {
  return new Promise((r) => {
    server.closeAllConnections();
    server.close(() => r());
  });
}

export async function startMiniMesh(opts: MiniMeshOptions = {}): Promise<MiniMesh> {
  const config = parseConfigText(await readFile(new URL('../../../meshgw.yaml', import.meta.url), 'utf8'), 'meshgw.yaml');
  const stateDir = await mkdtemp(path.join(tmpdir(), 'meshgw-verify-mtls-'));
  const pkiDir = path.join(stateDir, 'pki');
  await ensureMeshPki({ config, pkiDir });
  const table = authorizationTable(config);
  const servers: http.Server[] = [];
  const sidecars: Record<string, Sidecar> = {};
  const pools: Pool[] = [];
  const egressPools: { users?: Pool; products?: Pool } = {};
  const apps: Record<string, http.RequestListener> = { users: usersApp(), products: productsApp(), orders: ordersApp(egressPools) };
  const inbound: Record<string, string> = {};
  const admin: Record<string, string> = {};

  // Backends first, so orders' egress knows where they listen.
  for (const name of ['users', 'products', 'orders']) {
    const dir = path.join(stateDir, 'sock', name);
    await mkdir(dir, { recursive: true, mode: 0o700 });
    const app = http.createServer(apps[name]);
    servers.push(app);
    const appSocket = path.join(dir, 'app.sock');
    await listen(app, appSocket);
    if (opts.leakApp === name) {
      const leak = http.createServer(apps[name]);
      servers.push(leak);
      await listen(leak);
    }
    const spec: SidecarSpec = {
      kind: 'sidecar',
      workload: name,
      spiffeId: spiffeId(config, name),
      host: '127.0.0.1',
      inboundPort: 0,
      appSocket,
      allowedCallers: (opts.allowedCallers?.[name] ?? table[name]).map((c) => spiffeId(config, c)),
      egress: config.services[name].backends.map((b) => ({ backend: b, socketPath: path.join(dir, `${b}.sock`), upstream: { origin: inbound[b], expectedSpiffeId: spiffeId(config, b) } })),
      adminPort: 0,
      tls: workloadTlsFiles(pkiDir, name),
    };
    const sidecar = createSidecar(spec, { mode: opts.mode?.[name] ?? 'STRICT', drainTimeoutMs: 1_000 });
    const addr = await sidecar.start();
    sidecars[name] = sidecar;
    inbound[name] = `https://127.0.0.1:${addr.inboundPort}`;
    admin[name] = `http://127.0.0.1:${addr.adminPort}`;
    for (const [b, socketPath] of Object.entries(addr.egress)) {
      const pool = new Pool('http://localhost', { socketPath });
      pools.push(pool);
      egressPools[b as 'users' | 'products'] = pool;
    }
  }

  const gatewayMaterial = await loadTlsMaterial(workloadTlsFiles(pkiDir, GATEWAY_WORKLOAD), (f) => readFile(f, 'utf8'));
  const upstreams = new Map<string, MeshUpstream>(['users', 'products', 'orders'].map((name) => [name, { origin: inbound[name], expectedSpiffeId: spiffeId(config, name) }]));
  const client = new MeshClient(upstreams, gatewayMaterial, { connections: 8, keepAliveTimeoutMs: 10_000, connectTimeoutMs: 5_000, requestTimeoutMs: 10_000, drainTimeoutMs: 1_000 });
  const gateway = http.createServer((req, res) => {
    const url = req.url ?? '/';
    if (!url.startsWith('/prod/')) return void sendJsonError(res, 404, 'NOT_FOUND', url);
    if (req.headers['x-api-key'] !== API_KEY) {
      req.resume();
      return json(res, 403, { message: 'Forbidden' });
    }
    req.url = url.slice('/prod'.length);
    const service = routeFor(config, req.url);
    if (!service) return void sendJsonError(res, 404, 'NOT_FOUND', url);
    void forwardRequest(req, res, client.dispatcher(service)!).then((r) => {
      if (r.type === 'failed') sendJsonError(res, r.failure.status, r.failure.code, r.error);
    });
  });
  servers.push(gateway);
  const gatewayPort = await listen(gateway);

  const ctx: LocalMtlsContext = {
    mesh: {
      config,
      pkiDir,
      workloads: [
        ...['users', 'products', 'orders'].map((name) => ({
          name,
          spiffeId: spiffeId(config, name),
          inboundUrl: inbound[name],
          adminUrl: admin[name],
          appSocket: path.join(stateDir, 'sock', name, 'app.sock'),
          tls: workloadTlsFiles(pkiDir, name),
        })),
        { name: GATEWAY_WORKLOAD, spiffeId: spiffeId(config, GATEWAY_WORKLOAD), tls: workloadTlsFiles(pkiDir, GATEWAY_WORKLOAD) },
      ],
      // Everything runs in this test process: its TCP listeners are the mini stack's.
      processes: [{ name: 'mini-mesh', role: 'gateway', pid: process.pid }],
    },
    endpoint: {
      target: 'local',
      config,
      baseUrl: `http://127.0.0.1:${gatewayPort}/prod`,
      apiKeys: [{ id: 'k-standard', name: 'demo-standard', plan: 'standard', value: API_KEY }],
    },
  };

  return {
    ctx,
    config,
    stateDir,
    sidecars,
    async close() {
      await Promise.all([client.close(), ...pools.map((p) => p.close().catch(() => undefined))]);
      await Promise.all(Object.values(sidecars).map((s) => s.stop()));
      await Promise.all(servers.map(closeServer));
      await rm(stateDir, { recursive: true, force: true });
    },
  };
}
