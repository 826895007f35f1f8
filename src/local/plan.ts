import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { MeshgwConfig } from '../config/schema.js';
import { authorizationTable, GATEWAY_WORKLOAD, serviceNames, spiffeId } from '../config/topology.js';
import type { MeshUpstream, TlsFiles } from '../dataplane/contracts.js';
import type { ApiKeyRecord, GatewaySpec } from '../gateway/spec.js';
import type { SidecarSpec } from '../mesh/spec.js';
import type { ServiceEnv } from './specs.js';
import type { HttpTarget } from './health.js';
import type { WorkloadState } from './state.js';

/** Root of the installed meshgw (the folder holding dist/). */
export const MESHGW_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');

export interface ProcessPlan {
  /** Unique process name: "users", "users-sidecar", "gateway". */
  name: string;
  workload: string;
  role: 'app' | 'sidecar' | 'gateway';
  /** Node script to run. */
  entry: string;
  args: string[];
  env: Record<string, string>;
  /** Written (mode 0600) before start and passed as the only argument. */
  spec?: GatewaySpec | SidecarSpec;
  specFile?: string;
  /** Any HTTP answer from this URL (over `socketPath` when set) means the process is up (200 is required where `require200`). */
  health: HttpTarget & { require200: boolean };
  /** Folders made mode 0700 before start: where the app's and its sidecar's private sockets live. */
  privateDirs?: string[];
  /** Scheduling priority (nice value) for the process; the OS default when unset. */
  niceness?: number;
  logFile: string;
}

export interface LocalPlan {
  gatewayUrl: string;
  processes: ProcessPlan[];
  workloads: WorkloadState[];
}

export interface PlanInput {
  config: MeshgwConfig;
  stateDir: string;
  gatewayPort: number;
  /** Free ports for everything else, consumed in order. */
  freePorts: number[];
  /**
   * The gateway's admin listener (GET /stats, /stats/prometheus), a free port of its own besides
   * freePorts (`up` always passes one); the gateway has no admin listener without it.
   */
  gatewayAdminPort?: number;
  apiKeys: ApiKeyRecord[];
  tokenSecret: string;
  root?: string;
}

/** How many free ports buildLocalPlan consumes besides the gateway's. */
export function portsNeeded(config: MeshgwConfig): number {
  // Per replica of each service: the sidecar's inbound (mTLS) and admin (read-only) ports. Apps
  // and egress listeners have no port at all: they are Unix sockets.
  return Object.values(config.services).reduce((n, s) => n + (s.replicas ?? 1) * 2, 0);
}

/**
 * The workload name of a service's replica: replica 1 keeps the service's own name (so a stack at
 * replicas: 1 is exactly what it always was), the others are "users-2", "users-3"…
 */
export function replicaName(service: string, replica: number): string {
  return replica === 1 ? service : `${service}-${replica}`;
}

/** sun_path holds 104 bytes on macOS (108 on Linux), terminating NUL included. */
const MAX_SOCKET_PATH_BYTES = 103;

/**
 * The private socket folder of one workload: only its app and its sidecar use it, and mode 0700
 * keeps every other user's processes out, as a pod's loopback is private on Kubernetes.
 */
export function socketDir(stateDir: string, workload: string): string {
  return path.join(stateDir, 'local', 'sock', workload);
}

/** Where a workload's app keeps its data (mode 0700, the app's alone): users' and orders' SQLite files. */
export function appDataDir(stateDir: string, workload: string): string {
  return path.join(stateDir, 'local', 'data', workload);
}

function socketIn(dir: string, name: string): string {
  const file = path.join(dir, name);
  if (Buffer.byteLength(file) > MAX_SOCKET_PATH_BYTES) {
    throw new Error(`the socket path ${file} is longer than the ${MAX_SOCKET_PATH_BYTES} bytes a Unix socket address can hold`);
  }
  return file;
}

/**
 * The number of mesh connections kept warm on every edge: the largest burst any throttle admits
 * at once (that many admitted requests can be in flight together on one edge), and half as many
 * again for the tokens that refill while a burst is decided and for connections still finishing
 * the previous answer.
 */
export function warmConnections(config: MeshgwConfig): number {
  const bursts = [config.gateway.throttle.burst, ...config.gateway.methodThrottles.map((m) => m.burst), ...config.gateway.usagePlans.map((p) => p.throttle?.burst ?? 0)];
  return Math.min(Math.ceil(Math.max(...bursts) * 1.5), MAX_WARM_CONNECTIONS);
}

/**
 * Apps and sidecars yield the CPU to the gateway. API Gateway runs on a fleet of its own, apart
 * from the services; on one laptop the gateway shares cores with seven processes, and when the
 * admitted part of a burst makes the services busy, a gateway that waits for a time slice parses
 * the rest of the burst late and finds refilled tokens (issue 13). Admission is then decided at
 * arrival, as it is upstream; the services' total CPU is unchanged.
 */
export const BACKEND_NICENESS = 10;

/** A floor, not a cap: more connections open on demand. Above this, idle handshakes cost more than they save. */
const MAX_WARM_CONNECTIONS = 64;

export function tlsFilesFor(stateDir: string, workload: string): TlsFiles {
  const pki = path.join(stateDir, 'pki');
  return { caFile: path.join(pki, 'ca.crt'), certFile: path.join(pki, workload, 'tls.crt'), keyFile: path.join(pki, workload, 'tls.key') };
}

/**
 * The processes of a local stack and the addresses they use, decided before anything starts so
 * that every port is known to every process. Pure: no I/O.
 */
export function buildLocalPlan(input: PlanInput): LocalPlan {
  const { config, stateDir } = input;
  const host = config.local.host;
  const root = input.root ?? MESHGW_ROOT;
  const ports = [...input.freePorts];
  const take = () => {
    const p = ports.shift();
    if (p === undefined) throw new Error('buildLocalPlan: not enough free ports');
    return p;
  };
  const localDir = path.join(stateDir, 'local');
  const logDir = path.join(localDir, 'logs');
  const specDir = path.join(localDir, 'specs');
  const callers = authorizationTable(config);

  // Every replica's ports first, so that each caller's upstream can name all of a backend's replicas.
  const replicas = new Map<string, { name: string; inbound: number; admin: number }[]>();
  for (const svc of serviceNames(config)) {
    const count = config.services[svc].replicas ?? 1;
    replicas.set(svc, Array.from({ length: count }, (_, i) => ({ name: replicaName(svc, i + 1), inbound: take(), admin: take() })));
  }
  const warm = warmConnections(config);
  // What a caller (the gateway or a client sidecar) knows of a service: every replica's inbound
  // origin, one shared identity (replicas are interchangeable, as a Deployment's pods are) and the
  // service's traffic policy, which the caller enforces.
  const upstreamOf = (svc: string): MeshUpstream => {
    const origins = replicas.get(svc)!.map((r) => `https://${host}:${r.inbound}`);
    const { trafficPolicy } = config.services[svc];
    return { origin: origins[0], replicaOrigins: origins, expectedSpiffeId: spiffeId(config, svc), warmConnections: warm, ...(trafficPolicy ? { trafficPolicy } : {}) };
  };

  const processes: ProcessPlan[] = [];
  const workloads: WorkloadState[] = [];
  for (const svc of serviceNames(config)) {
    // All replicas share the service's certificate: the identity is the service account's, not the pod's.
    const tls = tlsFilesFor(stateDir, svc);
    // One data folder per service, shared by its replicas as pods share a database: a user
    // registered through one replica logs in through another (SQLite in WAL mode serialises writers).
    const dataDir = appDataDir(stateDir, svc);
    const all = replicas.get(svc)!;
    for (const [index, a] of all.entries()) {
      const name = a.name;
      const dir = socketDir(stateDir, name);
      const appSocket = socketIn(dir, 'app.sock');
      const egress = config.services[svc].backends.map((backend) => ({ backend, socketPath: socketIn(dir, `${backend}.sock`), upstream: upstreamOf(backend) }));
      const env: ServiceEnv & Record<string, string> = { SOCKET_PATH: appSocket, SERVICE_NAME: svc, DATA_DIR: dataDir };
      if (svc === 'users') env.TOKEN_SECRET = input.tokenSecret;
      for (const e of egress) {
        // The URL names the backend (its Host header); the socket is how the app reaches it.
        const prefix = e.backend.toUpperCase().replace(/-/g, '_');
        env[`${prefix}_URL`] = `http://${e.backend}`;
        env[`${prefix}_SOCKET`] = e.socketPath;
      }
      processes.push({
        name,
        workload: name,
        role: 'app',
        entry: path.join(root, 'dist', 'services', svc, 'main.js'),
        args: [],
        env,
        health: { url: 'http://localhost/healthz', socketPath: appSocket, require200: true },
        privateDirs: [dir, dataDir],
        niceness: BACKEND_NICENESS,
        logFile: path.join(logDir, `${name}.log`),
      });
      const sidecar: SidecarSpec = {
        kind: 'sidecar',
        workload: svc,
        spiffeId: spiffeId(config, svc),
        host,
        inboundPort: a.inbound,
        appSocket,
        allowedCallers: callers[svc].map((c) => spiffeId(config, c)),
        egress,
        adminPort: a.admin,
        tls,
        namespace: config.mesh.namespace,
      };
      const sidecarFile = path.join(specDir, `${name}-sidecar.json`);
      processes.push({
        name: `${name}-sidecar`,
        workload: name,
        role: 'sidecar',
        entry: path.join(root, 'dist', 'src', 'mesh', 'sidecar-main.js'),
        args: [sidecarFile],
        env: {},
        spec: sidecar,
        specFile: sidecarFile,
        health: { url: `http://${host}:${a.admin}/ready`, require200: true },
        privateDirs: [dir],
        niceness: BACKEND_NICENESS,
        logFile: path.join(logDir, `${name}-sidecar.log`),
      });
      workloads.push({
        name,
        kind: 'service',
        ...(all.length > 1 ? { service: svc, replica: index + 1 } : {}),
        spiffeId: sidecar.spiffeId,
        url: `unix:${appSocket}`,
        appSocket,
        inboundUrl: `https://${host}:${a.inbound}`,
        adminUrl: `http://${host}:${a.admin}`,
        egress: Object.fromEntries(egress.map((e) => [e.backend, `unix:${e.socketPath}`])),
        tls,
        processes: [],
      });
    }
  }

  const gatewayTls = tlsFilesFor(stateDir, GATEWAY_WORKLOAD);
  const gatewaySpec: GatewaySpec = {
    kind: 'gateway',
    host,
    port: input.gatewayPort,
    stage: config.gateway.stage,
    gateway: config.gateway,
    routes: serviceNames(config).map((svc) => ({
      service: svc,
      pathPrefix: config.services[svc].pathPrefix,
      requireApiKey: config.services[svc].requireApiKey,
      upstream: upstreamOf(svc),
    })),
    apiKeys: input.apiKeys,
    tls: gatewayTls,
    spiffeId: spiffeId(config, GATEWAY_WORKLOAD),
    quotaFile: path.join(localDir, 'gateway-quotas.json'),
    namespace: config.mesh.namespace,
    ...(input.gatewayAdminPort !== undefined ? { adminPort: input.gatewayAdminPort } : {}),
  };
  const gatewayFile = path.join(specDir, 'gateway.json');
  const gatewayBase = `http://${host}:${input.gatewayPort}`;
  processes.push({
    name: GATEWAY_WORKLOAD,
    workload: GATEWAY_WORKLOAD,
    role: 'gateway',
    entry: path.join(root, 'dist', 'src', 'gateway', 'main.js'),
    args: [gatewayFile],
    env: {},
    spec: gatewaySpec,
    specFile: gatewayFile,
    // Any answer proves the listener is up: the gateway has no route of its own at /.
    health: { url: `${gatewayBase}/`, require200: false },
    logFile: path.join(logDir, 'gateway.log'),
  });
  workloads.push({
    name: GATEWAY_WORKLOAD,
    kind: 'gateway',
    spiffeId: gatewaySpec.spiffeId,
    url: gatewayBase,
    ...(input.gatewayAdminPort !== undefined ? { adminUrl: `http://${host}:${input.gatewayAdminPort}` } : {}),
    tls: gatewayTls,
    processes: [],
  });
  return { gatewayUrl: `${gatewayBase}/${config.gateway.stage}`, processes, workloads };
}
