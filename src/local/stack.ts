import { spawn } from 'node:child_process';
import { closeSync, mkdirSync, openSync } from 'node:fs';
import path from 'node:path';
import { MeshgwError } from '../errors.js';
import type { LoadedConfig } from '../config/load.js';
import type { DaemonInput } from './daemon-input.js';
import { allocateFreePorts, isPortFree } from './ports.js';
import { buildLocalPlan, MESHGW_ROOT, portsNeeded } from './plan.js';
import { ensureApiKeys, ensureLocalSecrets } from './secrets.js';
import type { ApiKeyRecord } from '../gateway/spec.js';
import { clearRunState, isAlive, localDir, readRunState, writeJsonAtomic, type LocalRunState } from './state.js';

export interface StartOptions {
  /** Gateway port; 0 picks a free one. Defaults to local.gatewayPort. */
  port?: number;
  /** Progress: "certificates ready", "users healthy"… */
  onProgress?: (text: string) => void;
  startTimeoutMs?: number;
  signal?: AbortSignal;
}

export type StartResult =
  | { type: 'started'; run: LocalRunState; apiKeys: ApiKeyRecord[]; certificates: unknown }
  | { type: 'already-running'; run: LocalRunState; apiKeys: ApiKeyRecord[] };

const DAEMON_ENTRY = path.join(MESHGW_ROOT, 'dist', 'src', 'local', 'daemon-main.js');
const POLL_MS = 100;

/** The run state if a supervisor is alive; a stale file from a killed run is removed. */
export async function findRunningStack(stateDir: string): Promise<LocalRunState | undefined> {
  const run = await readRunState(stateDir);
  if (!run) return undefined;
  if (isAlive(run.supervisorPid)) return run;
  await clearRunState(stateDir);
  return undefined;
}

/**
 * Starts the local stack under a detached supervisor and returns once every process is healthy.
 * Certificates and API keys are made (or reused) first.
 */
export async function startLocalStack(loaded: LoadedConfig, opts: StartOptions = {}): Promise<StartResult> {
  const { config, stateDir } = loaded;
  const progress = opts.onProgress ?? (() => undefined);
  const running = await findRunningStack(stateDir);
  if (running) {
    return { type: 'already-running', run: running, apiKeys: (await ensureApiKeys(config, stateDir)) };
  }

  const { ensureMeshPki } = await import('../pki/store.js');
  const certificates = await ensureMeshPki({ config, pkiDir: path.join(stateDir, 'pki') });
  progress('mesh CA and workload certificates ready');
  const apiKeys = await ensureApiKeys(config, stateDir);
  const secrets = await ensureLocalSecrets(stateDir);

  let gatewayPort = opts.port ?? config.local.gatewayPort;
  if (gatewayPort === 0) {
    [gatewayPort] = await allocateFreePorts(1, config.local.host);
  } else if (!(await isPortFree(gatewayPort, config.local.host))) {
    throw new MeshgwError('USAGE', `port ${gatewayPort} on ${config.local.host} is already in use`, 'Stop what uses it, or pass --port 0 (any free port) or another --port.');
  }
  const freePorts = await allocateFreePorts(portsNeeded(config), config.local.host);
  const plan = buildLocalPlan({ config, stateDir, gatewayPort, freePorts, apiKeys, tokenSecret: secrets.tokenSecret });

  const dir = localDir(stateDir);
  const input: DaemonInput = { configFile: loaded.file, stateDir, plan };
  const inputFile = path.join(dir, 'daemon-input.json');
  await writeJsonAtomic(inputFile, input);
  mkdirSync(path.join(dir, 'logs'), { recursive: true, mode: 0o700 });
  const logFd = openSync(path.join(dir, 'logs', 'supervisor.log'), 'a', 0o600);
  const daemon = spawn(process.execPath, [DAEMON_ENTRY, inputFile], { detached: true, stdio: ['ignore', logFd, logFd], env: process.env });
  closeSync(logFd);
  let daemonExit: number | null = null;
  daemon.once('exit', (code) => void (daemonExit = code ?? 1));
  daemon.unref();

  const deadline = Date.now() + (opts.startTimeoutMs ?? 60_000);
  let reported = new Set<string>();
  for (;;) {
    const run = await readRunState(stateDir);
    if (run?.failure) {
      await clearRunState(stateDir);
      const tail = run.failure.logTail.length ? `\n  last log lines of ${run.failure.workload}:\n    ${run.failure.logTail.join('\n    ')}` : '';
      throw new MeshgwError('STARTUP_FAILED', `${run.failure.workload} did not start: ${run.failure.reason}${tail}`, `See ${path.join(dir, 'logs')} for each process's log.`);
    }
    if (run) {
      const healthy = run.workloads.flatMap((w) => w.processes).filter((p) => p.health === 'healthy').map((p) => p.name);
      for (const name of healthy) if (!reported.has(name)) progress(`${name} healthy`);
      reported = new Set(healthy);
      if (run.ready) return { type: 'started', run, apiKeys, certificates };
    }
    if (daemonExit !== null && !run?.ready) {
      throw new MeshgwError('STARTUP_FAILED', `the local supervisor exited (code ${daemonExit}) before the stack was ready`, `See ${path.join(dir, 'logs', 'supervisor.log')}.`);
    }
    if (opts.signal?.aborted) {
      await stopLocalStack(stateDir);
      throw new MeshgwError('ABORTED', 'interrupted while starting; the local stack was stopped');
    }
    if (Date.now() > deadline) {
      await stopLocalStack(stateDir);
      throw new MeshgwError('STARTUP_FAILED', 'the local stack was not ready in time', `See ${path.join(dir, 'logs')} for each process's log.`);
    }
    await new Promise((r) => setTimeout(r, POLL_MS));
  }
}

export type StopResult = { type: 'stopped'; processes: number } | { type: 'not-running' };

/** Asks the supervisor to stop everything (SIGTERM), waits for it, and clears the run state. */
export async function stopLocalStack(stateDir: string, timeoutMs = 20_000): Promise<StopResult> {
  const run = await readRunState(stateDir);
  if (!run) return { type: 'not-running' };
  const processes = run.workloads.flatMap((w) => w.processes);
  if (isAlive(run.supervisorPid)) {
    process.kill(run.supervisorPid, 'SIGTERM');
    const deadline = Date.now() + timeoutMs;
    while (isAlive(run.supervisorPid) && Date.now() < deadline) await new Promise((r) => setTimeout(r, POLL_MS));
    if (isAlive(run.supervisorPid)) {
      // The supervisor is stuck: end it and whatever it started.
      for (const p of processes) if (p.pid && isAlive(p.pid)) process.kill(p.pid, 'SIGKILL');
      process.kill(run.supervisorPid, 'SIGKILL');
    }
  } else {
    for (const p of processes) if (p.pid && isAlive(p.pid)) process.kill(p.pid, 'SIGTERM');
  }
  await clearRunState(stateDir);
  return { type: 'stopped', processes: processes.length };
}
