/** A small mesh for tests: an in-memory CA, leaf files on disk, tiny apps and sidecars on port 0. */
import { mkdtempSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import http from 'node:http';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { TlsFiles } from '../../src/dataplane/contracts.js';
import { xfccPeerUri } from '../../services/shared/peer-identity.js';
import type { EgressListener, SidecarSpec } from '../../src/mesh/spec.js';
import { createCa, issueLeaf, type IssuedCert } from '../../src/pki/issue.js';
import { createSidecar, type Sidecar, type SidecarAddresses, type SidecarDeps } from '../../src/mesh/sidecar.js';

export const TRUST = 'spiffe://cluster.local/ns/meshgw/sa';
export const id = (name: string) => `${TRUST}/${name}`;

export interface TestPki {
  dir: string;
  ca: IssuedCert;
  leaf(name: string, opts?: { lifetimeHours?: number; notBefore?: Date; spiffeId?: string }): Promise<IssuedCert>;
  /** Issues a leaf for `name` and writes it as <dir>/<name>/{tls.crt,tls.key,ca.crt}. */
  files(name: string, spiffeIdOverride?: string): Promise<TlsFiles>;
  cleanup(): Promise<void>;
}

export async function createTestPki(): Promise<TestPki> {
  const dir = await mkdtemp(path.join(tmpdir(), 'meshgw-mesh-'));
  const ca = await createCa({ commonName: 'test mesh CA', lifetimeDays: 1 });
  const leaf: TestPki['leaf'] = (name, opts = {}) =>
    issueLeaf(ca, { spiffeId: opts.spiffeId ?? id(name), dnsName: `${name}.meshgw.svc.cluster.local`, lifetimeHours: opts.lifetimeHours ?? 1, notBefore: opts.notBefore });
  return {
    dir,
    ca,
    leaf,
    async files(name, spiffeIdOverride) {
      const cert = await leaf(name, { spiffeId: spiffeIdOverride });
      const d = path.join(dir, name);
      await mkdir(d, { recursive: true });
      const files: TlsFiles = { caFile: path.join(d, 'ca.crt'), certFile: path.join(d, 'tls.crt'), keyFile: path.join(d, 'tls.key') };
      await writeFile(files.caFile, ca.certPem);
      await writeFile(files.certFile, cert.certPem);
      await writeFile(files.keyFile, cert.keyPem, { mode: 0o600 });
      return files;
    },
    cleanup: () => rm(dir, { recursive: true, force: true }),
  };
}

export interface SeenRequest {
  method: string;
  url: string;
  headers: http.IncomingHttpHeaders;
  body: string;
}

export interface TestApp {
  /** The app's Unix socket, in a folder of its own (mode 0700), as the supervisor lays it out. */
  socketPath: string;
  seen: SeenRequest[];
  server: http.Server;
  close(): Promise<void>;
}

let socketRoot: string | undefined;
let socketCount = 0;

/** A fresh socket path in a private (0700) folder for this test process, short enough for sun_path. */
export function privateSocket(name: string): string {
  socketRoot ??= mkdtempSync(path.join(tmpdir(), 'mgw-'));
  return path.join(socketRoot, `${++socketCount}-${name}.sock`);
}

/** The caller's SPIFFE ID as an app reads it: the URI of the XFCC its sidecar set, or null. */
export function peerOf(req: http.IncomingMessage): string | null {
  const xfcc = req.headers['x-forwarded-client-cert'];
  return typeof xfcc === 'string' ? xfccPeerUri(xfcc) : null;
}

/** An app that answers 200 with a JSON echo, unless `handler` takes over; it listens on a private Unix socket. */
export async function startApp(name: string, handler?: (req: http.IncomingMessage, res: http.ServerResponse, body: string) => void): Promise<TestApp> {
  const seen: SeenRequest[] = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      seen.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, body });
      if (handler) return handler(req, res, body);
      const out = JSON.stringify({ app: name, path: req.url, peer: peerOf(req) });
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(out);
    });
  });
  const socketPath = privateSocket(name);
  await new Promise<void>((r) => server.listen(socketPath, r));
  return {
    socketPath,
    seen,
    server,
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}

export interface RunningSidecar {
  sidecar: Sidecar;
  addr: SidecarAddresses;
  spec: SidecarSpec;
  inboundUrl: string;
  adminUrl: string;
  stop(): Promise<void>;
}

export function sidecarSpec(workload: string, tls: TlsFiles, appSocket: string, allowedCallers: string[], egress: EgressListener[] = []): SidecarSpec {
  return { kind: 'sidecar', workload, spiffeId: id(workload), host: '127.0.0.1', inboundPort: 0, appSocket, allowedCallers, egress, adminPort: 0, tls };
}

/** An egress listener for `backend` on a fresh private socket. */
export function egressTo(backend: string, origin: string, expectedSpiffeId: string, warmConnections?: number): EgressListener {
  return { backend, socketPath: privateSocket(`to-${backend}`), upstream: { origin, expectedSpiffeId, ...(warmConnections !== undefined ? { warmConnections } : {}) } };
}

export async function startSidecar(spec: SidecarSpec, deps: SidecarDeps = {}): Promise<RunningSidecar> {
  const sidecar = createSidecar(spec, { drainTimeoutMs: 1_000, ...deps });
  const addr = await sidecar.start();
  return {
    sidecar,
    addr,
    spec,
    inboundUrl: `https://127.0.0.1:${addr.inboundPort}`,
    adminUrl: `http://127.0.0.1:${addr.adminPort}`,
    stop: () => sidecar.stop(),
  };
}

export async function getJson<T>(url: string): Promise<{ status: number; body: T }> {
  const res = await fetch(url, { signal: AbortSignal.timeout(5_000) });
  return { status: res.status, body: (await res.json()) as T };
}

/** Plain HTTP over a Unix socket: what an app does with its egress listener (and a sidecar with its app). */
export function callSocket(socketPath: string, pathName: string, init: { method?: string; body?: string; headers?: Record<string, string> } = {}): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      {
        socketPath,
        path: pathName,
        method: init.method ?? 'GET',
        agent: false,
        timeout: 5_000,
        headers: { ...(init.body ? { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(init.body)) } : {}), ...init.headers },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
        res.on('error', reject);
      },
    );
    req.on('timeout', () => req.destroy(new Error('no answer within 5 s')));
    req.on('error', reject);
    req.end(init.body);
  });
}

export const callEgress = callSocket;

export interface RecordingRelay {
  port: number;
  /** Every byte that passed, both directions. */
  recorded(): Buffer;
  close(): Promise<void>;
}

/** A TCP relay that forwards to `targetPort` and keeps a copy of every byte, as a wiretap would. */
export async function startRecordingRelay(targetPort: number): Promise<RecordingRelay> {
  const chunks: Buffer[] = [];
  const sockets = new Set<net.Socket>();
  const server = net.createServer((client) => {
    const upstream = net.connect(targetPort, '127.0.0.1');
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on('close', () => sockets.delete(s));
      s.on('error', () => undefined);
    }
    client.on('data', (d: Buffer) => {
      chunks.push(Buffer.from(d));
      upstream.write(d);
    });
    upstream.on('data', (d: Buffer) => {
      chunks.push(Buffer.from(d));
      client.write(d);
    });
    client.on('end', () => upstream.end());
    upstream.on('end', () => client.end());
    client.on('close', () => upstream.destroy());
    upstream.on('close', () => client.destroy());
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    port: (server.address() as { port: number }).port,
    recorded: () => Buffer.concat(chunks),
    close: () =>
      new Promise<void>((r) => {
        for (const s of sockets) s.destroy();
        server.close(() => r());
      }),
  };
}

/** A port nothing listens on (bound, then released). */
/**
 * A loopback port nothing listens on. Chosen below Linux's ephemeral range (32768+): a port-0 pick lies
 * inside it, and a client connecting there can be handed that same port as its own source port, connecting
 * to itself (TCP simultaneous open) instead of being refused.
 */
export async function closedPort(): Promise<number> {
  for (;;) {
    const port = 20_000 + Math.floor(Math.random() * 12_000);
    const server = net.createServer();
    const bound = await new Promise<boolean>((r) => {
      server.once('error', () => r(false));
      server.listen(port, '127.0.0.1', () => r(true));
    });
    if (!bound) continue;
    await new Promise<void>((r) => server.close(() => r()));
    return port;
  }
}

export function statsDelta(before: Record<string, number>, after: Record<string, number>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const k of new Set([...Object.keys(before), ...Object.keys(after)])) {
    const d = (after[k] ?? 0) - (before[k] ?? 0);
    if (d !== 0) out[k] = d;
  }
  return out;
}
