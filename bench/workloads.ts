/** Starting the real meshgw processes (services, gateway, sidecars) for a measurement. */
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { GatewaySpec } from '../src/gateway/spec.js';
import type { SidecarSpec } from '../src/mesh/spec.js';
import { jsonEvent, startProcess, type Started } from './procs.js';

/** The repository root (dist/bench/ → ../../). */
export const ROOT = fileURLToPath(new URL('../../', import.meta.url));
export const DIST = path.join(ROOT, 'dist');

export interface Running {
  proc: Started;
  /** The TCP port, or 0 when the service listens on SOCKET_PATH. */
  port: number;
}

/** Extra node flags for the gateway and sidecars (e.g. --cpu-prof), set by run.ts's --profile. */
export const nodeFlags: { gateway: string[]; sidecar: string[] } = { gateway: [], sidecar: [] };

/** Log files are numbered: a name reused by a later section must not find an earlier process's lines. */
let logs = 0;
const logFile = (dir: string, name: string) => path.join(dir, `${name}-${++logs}.log`);

/** Starts a service app; its output goes to a log file in `dir`, as in the local stack. */
export async function startService(name: 'products' | 'users' | 'orders', dir: string, env: Record<string, string> = {}): Promise<Running> {
  const proc = await startProcess({
    name,
    logFile: logFile(dir, name),
    command: process.execPath,
    args: [path.join(DIST, 'services', name, 'main.js')],
    env: { ...process.env, HOST: '127.0.0.1', PORT: '0', SERVICE_NAME: name, ...env },
    isReady: (line) => jsonEvent(line, 'listening'),
  });
  return { proc, port: Number(proc.ready.port ?? 0) };
}

export async function startGateway(spec: GatewaySpec, dir: string, name = 'gateway'): Promise<Running> {
  const file = path.join(dir, `${name}.json`);
  await writeFile(file, JSON.stringify(spec), { mode: 0o600 });
  const proc = await startProcess({
    name,
    command: process.execPath,
    args: [...nodeFlags.gateway, path.join(DIST, 'src', 'gateway', 'main.js'), file],
    logFile: logFile(dir, name),
    isReady: (line) => jsonEvent(line, 'listening'),
  });
  return { proc, port: Number(proc.ready.port) };
}

export interface RunningSidecar {
  proc: Started;
  inboundPort: number;
  /** backend → the egress listener's Unix socket. */
  egress: Record<string, string>;
}

export async function startSidecar(spec: SidecarSpec, dir: string): Promise<RunningSidecar> {
  const file = path.join(dir, `sidecar-${spec.workload}.json`);
  await writeFile(file, JSON.stringify(spec), { mode: 0o600 });
  const proc = await startProcess({
    name: `sidecar ${spec.workload}`,
    command: process.execPath,
    args: [...nodeFlags.sidecar, path.join(DIST, 'src', 'mesh', 'sidecar-main.js'), file],
    logFile: logFile(dir, `sidecar-${spec.workload}`),
    isReady: (line) => jsonEvent(line, 'listening'),
  });
  return { proc, inboundPort: Number(proc.ready.inboundPort), egress: proc.ready.egress as Record<string, string> };
}

/** The echo app of the two-sidecar measurement (bench/echo-server.ts), on TCP and on `socketPath`. */
export async function startEcho(socketPath: string): Promise<Running> {
  const proc = await startProcess({
    name: 'echo',
    command: process.execPath,
    args: [path.join(DIST, 'bench', 'echo-server.js'), socketPath],
    logFile: logFile(path.dirname(socketPath), 'echo'),
    isReady: (line) => jsonEvent(line, 'listening'),
  });
  return { proc, port: Number(proc.ready.port) };
}
