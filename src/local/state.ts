import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { ApiKeyRecord } from '../gateway/spec.js';

export type WorkloadHealth = 'starting' | 'healthy' | 'unhealthy' | 'restarting' | 'stopped';

/** One supervised OS process (an app, a sidecar or the gateway). */
export interface ProcessState {
  name: string;
  role: 'app' | 'sidecar' | 'gateway';
  pid: number | null;
  health: WorkloadHealth;
  restarts: number;
  lastExit?: { code: number | null; signal: string | null; at: string };
  logFile: string;
  /** The OS's start time of `pid` (see process-table.ts): a recycled pid never matches it. */
  startIdentity?: string;
}

/** A workload as `status` shows it: its app, its sidecar and their addresses. */
export interface WorkloadState {
  name: string;
  kind: 'service' | 'gateway';
  /** When the service runs several replicas: the service this workload is a replica of ("users" for "users-2"). */
  service?: string;
  /** Which replica, from 1 (set with `service`). */
  replica?: number;
  spiffeId: string;
  /** The gateway's public listener (http://127.0.0.1:P), or a service app's socket as unix:<path>. */
  url: string;
  /** A service app's private Unix socket: only its sidecar talks to it. */
  appSocket?: string;
  /** https://127.0.0.1:P, STRICT mTLS (services only). */
  inboundUrl?: string;
  adminUrl?: string;
  /** backend → unix:<path> of the sidecar's egress listener, in the app's private socket folder. */
  egress?: Record<string, string>;
  tls: { caFile: string; certFile: string; keyFile: string };
  processes: ProcessState[];
}

/** <stateDir>/local/run.json, written by the supervisor daemon on every change. */
export interface LocalRunState {
  version: 1;
  configFile: string;
  startedAt: string;
  supervisorPid: number;
  /** The supervisor's start time as the OS reports it: tells it from a process that got its pid later. */
  supervisorIdentity?: string;
  /**
   * The process group of the supervisor and everything it starts (`up` starts the supervisor as a
   * group leader): `status` and `down` find the stack's processes by it even without the supervisor.
   */
  processGroup?: number;
  /** The invoke URL, stage included: http://127.0.0.1:8080/prod */
  gatewayUrl: string;
  ready: boolean;
  /** Set when start-up failed; the daemon exits after writing it. */
  failure?: { workload: string; reason: string; logTail: string[] };
  workloads: WorkloadState[];
}

export function localDir(stateDir: string): string {
  return path.join(stateDir, 'local');
}

export function runStateFile(stateDir: string): string {
  return path.join(localDir(stateDir), 'run.json');
}

export function apiKeysFile(stateDir: string): string {
  return path.join(localDir(stateDir), 'api-keys.json');
}

export function secretsFile(stateDir: string): string {
  return path.join(localDir(stateDir), 'secrets.json');
}

export async function readRunState(stateDir: string): Promise<LocalRunState | undefined> {
  try {
    return JSON.parse(await readFile(runStateFile(stateDir), 'utf8')) as LocalRunState;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}

/** Atomic write (temp file + rename) so readers never see half a file. */
export async function writeJsonAtomic(file: string, data: unknown, mode = 0o600): Promise<void> {
  await mkdir(path.dirname(file), { recursive: true, mode: 0o700 });
  const tmp = `${file}.${process.pid}.tmp`;
  await writeFile(tmp, JSON.stringify(data, null, 2) + '\n', { mode });
  await rename(tmp, file);
}

export async function writeRunState(stateDir: string, state: LocalRunState): Promise<void> {
  await writeJsonAtomic(runStateFile(stateDir), state);
}

export async function clearRunState(stateDir: string): Promise<void> {
  await rm(runStateFile(stateDir), { force: true });
}

export async function readApiKeys(stateDir: string): Promise<ApiKeyRecord[] | undefined> {
  try {
    return JSON.parse(await readFile(apiKeysFile(stateDir), 'utf8')) as ApiKeyRecord[];
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}

/** Whether a process id is alive (signal 0 probes without signalling). */
export function isAlive(pid: number | null | undefined): boolean {
  if (!pid) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
