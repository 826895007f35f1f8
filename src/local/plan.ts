import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { MeshgwConfig } from '../config/schema.js';
import { authorizationTable, GATEWAY_WORKLOAD, serviceNames, spiffeId } from '../config/topology.js';
import type { ApiKeyRecord, GatewaySpec, ServiceEnv, SidecarSpec, TlsFiles } from './specs.js';
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
  /** Any HTTP answer from this URL means the process is up (200 is required where `ok200`). */
  health: { url: string; require200: boolean };
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
  apiKeys: ApiKeyRecord[];
  tokenSecret: string;
  root?: string;
}

/** How many free ports buildLocalPlan consumes besides the gateway's. */
export function portsNeeded(config: MeshgwConfig): number {
  // Per service: app, sidecar inbound, sidecar admin, plus one egress listener per backend.
  return Object.values(config.services).reduce((n, s) => n + 3 + s.backends.length, 0);
}

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

  const addr = new Map<string, { app: number; inbound: number; admin: number }>();
  for (const svc of serviceNames(config)) addr.set(svc, { app: take(), inbound: take(), admin: take() });

  const processes: ProcessPlan[] = [];
  const workloads: WorkloadState[] = [];
  for (const svc of serviceNames(config)) {
    const a = addr.get(svc)!;
    const tls = tlsFilesFor(stateDir, svc);
    const egress = config.services[svc].backends.map((backend) => ({
      backend,
      port: take(),
      upstream: { origin: `https://${host}:${addr.get(backend)!.inbound}`, expectedSpiffeId: spiffeId(config, backend) },
    }));
    const env: ServiceEnv & Record<string, string> = { HOST: host, PORT: String(a.app), SERVICE_NAME: svc };
    if (svc === 'users') env.TOKEN_SECRET = input.tokenSecret;
    for (const e of egress) env[`${e.backend.toUpperCase()}_URL`] = `http://${host}:${e.port}`;
    processes.push({
      name: svc,
      workload: svc,
      role: 'app',
      entry: path.join(root, 'dist', 'services', svc, 'main.js'),
      args: [],
      env,
      health: { url: `http://${host}:${a.app}/healthz`, require200: true },
      logFile: path.join(logDir, `${svc}.log`),
    });
    const sidecar: SidecarSpec = {
      kind: 'sidecar',
      workload: svc,
      spiffeId: spiffeId(config, svc),
      host,
      inboundPort: a.inbound,
      appOrigin: `http://${host}:${a.app}`,
      allowedCallers: callers[svc].map((c) => spiffeId(config, c)),
      egress,
      adminPort: a.admin,
      tls,
    };
    const sidecarFile = path.join(specDir, `${svc}-sidecar.json`);
    processes.push({
      name: `${svc}-sidecar`,
      workload: svc,
      role: 'sidecar',
      entry: path.join(root, 'dist', 'src', 'mesh', 'sidecar-main.js'),
      args: [sidecarFile],
      env: {},
      spec: sidecar,
      specFile: sidecarFile,
      health: { url: `http://${host}:${a.admin}/ready`, require200: true },
      logFile: path.join(logDir, `${svc}-sidecar.log`),
    });
    workloads.push({
      name: svc,
      kind: 'service',
      spiffeId: sidecar.spiffeId,
      url: `http://${host}:${a.app}`,
      inboundUrl: `https://${host}:${a.inbound}`,
      adminUrl: `http://${host}:${a.admin}`,
      egress: Object.fromEntries(egress.map((e) => [e.backend, `http://${host}:${e.port}`])),
      tls,
      processes: [],
    });
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
      upstream: { origin: `https://${host}:${addr.get(svc)!.inbound}`, expectedSpiffeId: spiffeId(config, svc) },
    })),
    apiKeys: input.apiKeys,
    tls: gatewayTls,
    spiffeId: spiffeId(config, GATEWAY_WORKLOAD),
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
    tls: gatewayTls,
    processes: [],
  });
  return { gatewayUrl: `${gatewayBase}/${config.gateway.stage}`, processes, workloads };
}
