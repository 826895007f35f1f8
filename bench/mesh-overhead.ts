/**
 * 2. One mTLS hop (client → egress sidecar → inbound sidecar → app) vs plain loopback HTTP to the
 * app, both keep-alive; and the rate of new mutual-TLS connections (one per request) vs new plain
 * TCP connections.
 */
import { chmod, mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { createSecureContext, type PeerCertificate } from 'node:tls';
import { createCa, issueLeaf } from '../src/pki/issue.js';
import type { TlsFiles } from '../src/dataplane/contracts.js';
import type { SidecarSpec } from '../src/mesh/spec.js';
import { runClosedLoop, type ClosedLoopResult } from './closed-loop.js';
import type { LoadShape } from './gateway-overhead.js';
import { cpuMs, cpuPerRequest, snapshot } from './proc-cpu.js';
import { measureOpensslHandshakes, measureOpensslSpeed, type OpensslHandshakes, type OpensslSpeed } from './openssl-speed.js';
import { ratio } from './stats.js';
import { startService, startSidecar, type RunningSidecar } from './workloads.js';

export interface MeshOverhead {
  direct: ClosedLoopResult;
  meshHop: ClosedLoopResult;
  newPlainConnection: ClosedLoopResult;
  newMtlsConnection: ClosedLoopResult;
  ratios: { hopP50: number; hopP99: number; hopRps: number; handshakeRateVsPlainConnect: number };
  /** CPU ms per new mTLS connection (and its one request), by process (Linux /proc). */
  cpuMsPerHandshake: Record<string, number>;
  /** CPU ms per keep-alive request over one mTLS hop, by process: what a handshake costs on top of a request. */
  cpuMsPerHopRequest: Record<string, number>;
  /** The handshake's crypto from `openssl speed` on this machine, or why it is missing. */
  openssl: OpensslSpeed | string;
  /** Server sidecar CPU per new connection / the crypto floor from openssl speed. */
  handshakeVsOpenssl: number;
  /** OpenSSL's own s_server, same certificates, same machine: what the library costs without Node. */
  opensslServer: OpensslHandshakes | string;
}

export const TRUST = 'spiffe://cluster.local/ns/meshgw/sa';

export interface Pem {
  ca: string;
  cert: string;
  key: string;
}

/** A CA and two leaves (client "orders", server "products") written under dir/pki, keys 0600. */
export async function makePki(dir: string): Promise<{ files: Record<string, TlsFiles>; pem: Record<string, Pem> }> {
  const ca = await createCa({ commonName: 'meshgw bench CA', lifetimeDays: 1 });
  const files: Record<string, TlsFiles> = {};
  const pem: Record<string, Pem> = {};
  for (const name of ['orders', 'products']) {
    const leaf = await issueLeaf(ca, { spiffeId: `${TRUST}/${name}`, dnsName: `${name}.meshgw.svc.cluster.local`, lifetimeHours: 1 });
    const d = path.join(dir, 'pki', name);
    await mkdir(d, { recursive: true, mode: 0o700 });
    const f: TlsFiles = { caFile: path.join(d, 'ca.crt'), certFile: path.join(d, 'tls.crt'), keyFile: path.join(d, 'tls.key') };
    await writeFile(f.caFile, ca.certPem);
    await writeFile(f.certFile, leaf.certPem);
    await writeFile(f.keyFile, leaf.keyPem, { mode: 0o600 });
    await chmod(f.keyFile, 0o600);
    files[name] = f;
    pem[name] = { ca: ca.certPem, cert: leaf.certPem, key: leaf.keyPem };
  }
  return { files, pem };
}

/**
 * The pair every mesh figure crosses: a STRICT products sidecar in front of `appSocket` that lets
 * orders call it, and an orders sidecar whose egress listener (`egressSocket`) reaches it over mTLS.
 */
export async function startSidecarPair(
  dir: string,
  files: Record<string, TlsFiles>,
  sockets: { appSocket: string; clientAppSocket: string; egressSocket: string },
  warmConnections?: number,
): Promise<{ serverCar: RunningSidecar; clientCar: RunningSidecar }> {
  const server: SidecarSpec = {
    kind: 'sidecar',
    workload: 'products',
    spiffeId: `${TRUST}/products`,
    host: '127.0.0.1',
    inboundPort: 0,
    appSocket: sockets.appSocket,
    allowedCallers: [`${TRUST}/orders`],
    egress: [],
    adminPort: 0,
    tls: files.products,
  };
  const serverCar = await startSidecar(server, dir);
  const upstream = { origin: `https://127.0.0.1:${serverCar.inboundPort}`, expectedSpiffeId: `${TRUST}/products`, ...(warmConnections === undefined ? {} : { warmConnections }) };
  const client: SidecarSpec = {
    kind: 'sidecar',
    workload: 'orders',
    spiffeId: `${TRUST}/orders`,
    host: '127.0.0.1',
    inboundPort: 0,
    appSocket: sockets.clientAppSocket,
    allowedCallers: [],
    egress: [{ backend: 'products', socketPath: sockets.egressSocket, upstream }],
    adminPort: 0,
    tls: files.orders,
  };
  try {
    return { serverCar, clientCar: await startSidecar(client, dir) };
  } catch (err) {
    await serverCar.proc.stop();
    throw err;
  }
}

export async function measureMeshOverhead(dir: string, shape: LoadShape, handshakeShape: LoadShape): Promise<MeshOverhead> {
  const { files, pem } = await makePki(dir);
  const app = await startService('products', dir);
  // The sidecar's app listens on its private Unix socket, as in the stack; `app` above (TCP) is the direct baseline.
  const appSocket = path.join(dir, 'products-app.sock');
  const meshApp = await startService('products', dir, { SOCKET_PATH: appSocket });
  try {
    const appOrigin = `http://127.0.0.1:${app.port}`;
    const { serverCar, clientCar } = await startSidecarPair(dir, files, { appSocket, clientAppSocket: appSocket, egressSocket: path.join(dir, 'orders-to-products.sock') });
    try {
      const direct = await runClosedLoop({ origin: appOrigin, path: '/products', ...shape });
      const pids = { 'products-sidecar': serverCar.proc.child.pid ?? 0, products: meshApp.proc.child.pid ?? 0, bench: process.pid };
      const hopBefore = snapshot(pids);
      const meshHop = await runClosedLoop({ origin: 'http://localhost', socketPath: clientCar.egress.products, path: '/products', ...shape });
      const cpuMsPerHopRequest = cpuPerRequest(hopBefore, snapshot(pids), meshHop.count + meshHop.errors + shape.warmupCount);
      const newPlainConnection = await runClosedLoop({ origin: appOrigin, path: '/products', ...handshakeShape, newConnectionPerRequest: true });
      // The bench plays the orders sidecar: its certificate, the mesh CA, and the SPIFFE ID check.
      // One secure context for all connections, so the client does not re-parse PEM per request
      // and the figure is the handshake itself (both ends' crypto), not the bench's set-up.
      const secureContext = createSecureContext({ ca: pem.orders.ca, cert: pem.orders.cert, key: pem.orders.key });
      const before = snapshot(pids);
      const newMtlsConnection = await runClosedLoop({
        origin: `https://127.0.0.1:${serverCar.inboundPort}`,
        path: '/products',
        ...handshakeShape,
        newConnectionPerRequest: true,
        tls: {
          secureContext,
          maxCachedSessions: 0,
          checkServerIdentity: (_h: string, cert: PeerCertificate) => ((cert.subjectaltname ?? '').includes(`URI:${TRUST}/products`) ? undefined : new Error('wrong SPIFFE ID')),
        },
      });
      const cpuMsPerHandshake = cpuPerRequest(before, snapshot(pids), newMtlsConnection.count + newMtlsConnection.errors + handshakeShape.warmupCount);
      // After the loads, so the 6 s of openssl speed do not compete with them.
      const openssl = await measureOpensslSpeed(2);
      const opensslServer = await measureOpensslHandshakes(files.products, files.orders, 3, cpuMs);
      const serverMs = cpuMsPerHandshake['products-sidecar'];
      return {
        cpuMsPerHandshake,
        cpuMsPerHopRequest,
        openssl,
        opensslServer,
        handshakeVsOpenssl: typeof openssl === 'string' || serverMs === undefined ? NaN : ratio(serverMs, openssl.expectedServerMsPerHandshake),
        direct,
        meshHop,
        newPlainConnection,
        newMtlsConnection,
        ratios: {
          hopP50: ratio(meshHop.p50Ms, direct.p50Ms),
          hopP99: ratio(meshHop.p99Ms, direct.p99Ms),
          hopRps: ratio(meshHop.rps, direct.rps),
          handshakeRateVsPlainConnect: ratio(newMtlsConnection.rps, newPlainConnection.rps),
        },
      };
    } finally {
      await clientCar.proc.stop();
      await serverCar.proc.stop();
    }
  } finally {
    await app.proc.stop();
    await meshApp.proc.stop();
  }
}
