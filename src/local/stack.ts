import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, mkdirSync, openSync } from 'node:fs';
import path from 'node:path';
import { MeshgwError } from '../errors.js';
import type { LoadedConfig } from '../config/load.js';
import type { DaemonInput } from './daemon-input.js';
import { allocateFreePorts, isPortFree } from './ports.js';
import { buildLocalPlan, MESHGW_ROOT, portsNeeded } from './plan.js';
import { ensureApiKeys, ensureLocalSecrets } from './secrets.js';
import type { ApiKeyRecord } from '../gateway/spec.js';
import { systemProcessTable, type ProcessTable } from './process-table.js';
import { findStackProcesses, isSupervisorAlive, stackRef, stopStackProcesses, type StackProcess, type StackRef } from './stack-processes.js';
import { clearRunState, localDir, readRunState, writeJsonAtomic, type LocalRunState } from './state.js';

export interface StartOptions {
  /** Gateway port; 0 picks a free one. Defaults to local.gatewayPort. */
  port?: number;
  /** Progress: "certificates ready", "users healthy"… */
  onProgress?: (text: string) => void;
  startTimeoutMs?: number;
  /** Aborting stops whatever was launched so far, and the start fails with ABORTED. */
  signal?: AbortSignal;
  /** How long processes left by a killed supervisor get to exit on their own before `up` refuses. */
  orphanWaitMs?: number;
  processTable?: ProcessTable;
}

export type StartResult =
  | { type: 'started'; run: LocalRunState; apiKeys: ApiKeyRecord[]; certificates: unknown }
  | { type: 'already-running'; run: LocalRunState; apiKeys: ApiKeyRecord[] };

/** What is on this machine for a state folder: the record, and which of its processes live. */
export type StackInspection =
  | { type: 'not-running'; staleRecord: boolean }
  | { type: 'running'; run: LocalRunState; processes: StackProcess[] }
  /** The supervisor is gone (killed) but processes it started still run: nothing restarts them. */
  | { type: 'orphaned'; run: LocalRunState; processes: StackProcess[] };

const DAEMON_ENTRY = path.join(MESHGW_ROOT, 'dist', 'src', 'local', 'daemon-main.js');
const POLL_MS = 100;
const ORPHAN_WAIT_MS = 5_000;

/** Reads the run record and checks it against the live processes; changes nothing. */
export async function inspectLocalStack(stateDir: string, table: ProcessTable = systemProcessTable()): Promise<StackInspection> {
  const run = await readRunState(stateDir);
  if (!run) return { type: 'not-running', staleRecord: false };
  const ref = stackRef(run);
  const processes = await findStackProcesses(ref, table);
  if (await isSupervisorAlive(ref, table)) return { type: 'running', run, processes };
  if (processes.length > 0) return { type: 'orphaned', run, processes };
  return { type: 'not-running', staleRecord: true };
}

/**
 * The run state if its supervisor is alive. A record that nothing alive matches any more is
 * removed; one whose supervisor died while its processes run is kept, for `status` and `down`.
 */
export async function findRunningStack(stateDir: string, table?: ProcessTable): Promise<LocalRunState | undefined> {
  const found = await inspectLocalStack(stateDir, table);
  if (found.type === 'running') return found.run;
  if (found.type === 'not-running' && found.staleRecord) await clearRunState(stateDir);
  return undefined;
}

function throwIfAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw new MeshgwError('ABORTED', 'interrupted before the local stack was launched; nothing is running');
}

/**
 * Processes a killed supervisor left get a moment to notice and exit (they watch their
 * supervisor); if any still run, `up` refuses rather than start a second stack beside them.
 */
async function waitForOrphans(stateDir: string, table: ProcessTable, waitMs: number, progress: (t: string) => void): Promise<void> {
  const deadline = Date.now() + waitMs;
  for (let found = await inspectLocalStack(stateDir, table); found.type === 'orphaned'; found = await inspectLocalStack(stateDir, table)) {
    if (Date.now() >= deadline) {
      const list = found.processes.map((p) => `${p.name} (pid ${p.pid})`).join(', ');
      throw new MeshgwError(
        'STACK_BAD_STATE',
        `the local stack's supervisor (pid ${found.run.supervisorPid}) is gone, but ${found.processes.length} of its processes still run: ${list}`,
        'Run `meshgw down` to stop them, then `meshgw up` again.',
      );
    }
    progress(`waiting for ${found.processes.length} processes of a stopped supervisor to exit`);
    await new Promise((r) => setTimeout(r, POLL_MS));
  }
  await findRunningStack(stateDir, table); // removes the record if nothing is left
}

/**
 * Starts the local stack under a detached supervisor and returns once every process is healthy.
 * Certificates and API keys are made (or reused) first. On abort, timeout or failure, whatever was
 * launched is stopped before the error is thrown: nothing is left running.
 */
export async function startLocalStack(loaded: LoadedConfig, opts: StartOptions = {}): Promise<StartResult> {
  const { config, stateDir } = loaded;
  const progress = opts.onProgress ?? (() => undefined);
  const table = opts.processTable ?? systemProcessTable();
  throwIfAborted(opts.signal);
  const running = await findRunningStack(stateDir, table);
  if (running) {
    return { type: 'already-running', run: running, apiKeys: (await ensureApiKeys(config, stateDir)) };
  }
  await waitForOrphans(stateDir, table, opts.orphanWaitMs ?? ORPHAN_WAIT_MS, progress);

  throwIfAborted(opts.signal);
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
  // One more than the services need: the gateway's admin (stats and /stats/prometheus) listener.
  const freePorts = await allocateFreePorts(portsNeeded(config) + 1, config.local.host);
  const gatewayAdminPort = freePorts.pop()!;
  const plan = buildLocalPlan({ config, stateDir, gatewayPort, gatewayAdminPort, freePorts, apiKeys, tokenSecret: secrets.tokenSecret });

  const dir = localDir(stateDir);
  const input: DaemonInput = { configFile: loaded.file, stateDir, plan };
  const inputFile = path.join(dir, 'daemon-input.json');
  await writeJsonAtomic(inputFile, input);
  throwIfAborted(opts.signal); // the last moment at which nothing has been launched
  const daemon = launchDaemon(dir, inputFile);
  const launched = await daemonRef(daemon, table);
  const stopLaunched = async () => {
    // The record, once written, also names each child and its start time.
    const run = await readRunState(stateDir);
    await stopStackProcesses(run && run.supervisorPid === launched.supervisorPid ? stackRef(run) : launched, { table });
    await clearRunState(stateDir);
  };

  const deadline = Date.now() + (opts.startTimeoutMs ?? 60_000);
  let reported = new Set<string>();
  for (;;) {
    const run = await readRunState(stateDir);
    if (run?.failure) {
      await stopLaunched();
      const tail = run.failure.logTail.length ? `\n  last log lines of ${run.failure.workload}:\n    ${run.failure.logTail.join('\n    ')}` : '';
      throw new MeshgwError('STARTUP_FAILED', `${run.failure.workload} did not start: ${run.failure.reason}${tail}`, `See ${path.join(dir, 'logs')} for each process's log.`);
    }
    if (run) {
      const healthy = run.workloads.flatMap((w) => w.processes).filter((p) => p.health === 'healthy').map((p) => p.name);
      for (const name of healthy) if (!reported.has(name)) progress(`${name} healthy`);
      reported = new Set(healthy);
      if (run.ready) return { type: 'started', run, apiKeys, certificates };
    }
    if (daemon.exitCode !== null || daemon.signalCode !== null) {
      await stopLaunched();
      throw new MeshgwError('STARTUP_FAILED', `the local supervisor exited (${daemon.signalCode ?? `code ${daemon.exitCode}`}) before the stack was ready`, `See ${path.join(dir, 'logs', 'supervisor.log')}.`);
    }
    if (opts.signal?.aborted) {
      await stopLaunched();
      throw new MeshgwError('ABORTED', 'interrupted while starting; every process it had started was stopped, nothing is running');
    }
    if (Date.now() > deadline) {
      await stopLaunched();
      throw new MeshgwError('STARTUP_FAILED', 'the local stack was not ready in time, and was stopped', `See ${path.join(dir, 'logs')} for each process's log.`);
    }
    await sleepUnlessAborted(POLL_MS, opts.signal);
  }
}

/** The supervisor runs detached: it leads a new process group (its children join it) and outlives `up`. */
function launchDaemon(dir: string, inputFile: string): ChildProcess {
  mkdirSync(path.join(dir, 'logs'), { recursive: true, mode: 0o700 });
  const logFd = openSync(path.join(dir, 'logs', 'supervisor.log'), 'a', 0o600);
  const daemon = spawn(process.execPath, [DAEMON_ENTRY, inputFile], { detached: true, stdio: ['ignore', logFd, logFd], env: process.env });
  closeSync(logFd);
  daemon.once('error', () => undefined); // a spawn failure shows as its exit
  daemon.unref();
  return daemon;
}

/** What `up` knows of the supervisor it just launched, before the supervisor has written its record. */
async function daemonRef(daemon: ChildProcess, table: ProcessTable): Promise<StackRef> {
  const pid = daemon.pid ?? 0;
  const info = pid ? await table.get(pid) : undefined;
  return { supervisorPid: pid, ...(info ? { supervisorIdentity: info.startIdentity } : {}), processGroup: pid, processes: [] };
}

function sleepUnlessAborted(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal?.addEventListener('abort', done, { once: true });
  });
}

export type StopResult =
  | { type: 'stopped'; processes: number; supervisor: 'stopped' | 'killed' | 'gone'; ended: StackProcess[] }
  | { type: 'not-running' };

/**
 * Stops the local stack: the supervisor is asked (SIGTERM), then every process of the stack still
 * alive — left by a killed supervisor, say — is ended too, found by its process group and its
 * recorded pids (never a pid the OS has since given to another process). Clears the run state.
 */
export async function stopLocalStack(stateDir: string, timeoutMs = 20_000, table: ProcessTable = systemProcessTable()): Promise<StopResult> {
  const run = await readRunState(stateDir);
  if (!run) return { type: 'not-running' };
  const ref = stackRef(run);
  const before = (await findStackProcesses(ref, table)).filter((p) => p.pid !== ref.supervisorPid);
  const supervisorAlive = await isSupervisorAlive(ref, table);
  if (!supervisorAlive && before.length === 0) {
    await clearRunState(stateDir);
    return { type: 'not-running' };
  }
  const outcome = await stopStackProcesses(ref, { table, supervisorTimeoutMs: timeoutMs });
  await clearRunState(stateDir);
  return { type: 'stopped', processes: before.length, ...outcome };
}
