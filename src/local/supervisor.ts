import { spawn as nodeSpawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { chmodSync, closeSync, mkdirSync, openSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { setPriority } from 'node:os';
import path from 'node:path';
import { SUPERVISOR_PIPE_ENV } from '../dataplane/parent-watch.js';
import { isHealthy, probeHttp } from './health.js';
import type { ProcessPlan } from './plan.js';
import { systemProcessTable, type ProcessTable } from './process-table.js';
import type { ProcessState } from './state.js';

export type SpawnFn = (command: string, args: string[], options: SpawnOptions) => ChildProcess;

export interface SupervisorOptions {
  spawn?: SpawnFn;
  /** How long a process may take to answer its health probe at start. */
  startTimeoutMs?: number;
  pollMs?: number;
  /** Restart back-off: first delay, doubled per consecutive crash, capped. */
  restartDelayMs?: number;
  maxRestartDelayMs?: number;
  /** Grace period between SIGTERM and SIGKILL on stop. */
  stopGraceMs?: number;
  /** Called whenever a process changes state (start, health, exit, restart). */
  onChange?: (states: ProcessState[]) => void;
  /** Where each child's start time is read, so a later `down` never signals a recycled pid. */
  processTable?: ProcessTable;
}

export class StartupError extends Error {
  constructor(
    readonly workload: string,
    readonly reason: string,
    readonly logTail: string[],
  ) {
    super(`${workload} did not start: ${reason}`);
  }
}

interface Managed {
  plan: ProcessPlan;
  state: ProcessState;
  child?: ChildProcess;
  consecutiveCrashes: number;
  restartTimer?: NodeJS.Timeout;
}

// Children get a small, explicit environment: meshgw's own credentials (AWS, kube) are not theirs.
const INHERITED_ENV = ['PATH', 'HOME', 'LANG', 'TZ', 'NODE_OPTIONS'];

/**
 * Runs the local stack's processes: starts them in plan order, each only after the one before
 * answers its health probe, restarts any that exit unexpectedly (with back-off), and stops them
 * in reverse order.
 */
export class Supervisor {
  private readonly managed: Managed[];
  private stopping = false;
  private readonly spawn: SpawnFn;
  private readonly processTable: ProcessTable;
  private readonly opts: Required<Omit<SupervisorOptions, 'spawn' | 'onChange' | 'processTable'>> & Pick<SupervisorOptions, 'onChange'>;

  constructor(plans: ProcessPlan[], options: SupervisorOptions = {}) {
    this.spawn = options.spawn ?? nodeSpawn;
    this.processTable = options.processTable ?? systemProcessTable();
    this.opts = {
      startTimeoutMs: options.startTimeoutMs ?? 20_000,
      pollMs: options.pollMs ?? 50,
      restartDelayMs: options.restartDelayMs ?? 200,
      maxRestartDelayMs: options.maxRestartDelayMs ?? 5_000,
      stopGraceMs: options.stopGraceMs ?? 5_000,
      onChange: options.onChange,
    };
    this.managed = plans.map((plan) => ({
      plan,
      consecutiveCrashes: 0,
      state: { name: plan.name, role: plan.role, pid: null, health: 'stopped', restarts: 0, logFile: plan.logFile },
    }));
  }

  snapshot(): ProcessState[] {
    return this.managed.map((m) => ({ ...m.state }));
  }

  /**
   * Starts every process in order; on a failure stops those already started and throws StartupError.
   * A stop() meanwhile cancels the rest: nothing is launched once stopping has begun.
   */
  async start(): Promise<void> {
    for (const m of this.managed) {
      if (this.stopping) throw new StartupError(m.plan.name, 'start-up was cancelled by a stop', []);
      this.launch(m);
      try {
        await this.waitHealthy(m);
      } catch (err) {
        await this.stop();
        throw err;
      }
    }
  }

  /** Sends a signal to every running child (SIGHUP reloads certificates). */
  signalAll(signal: NodeJS.Signals, roles?: ProcessPlan['role'][]): void {
    for (const m of this.managed) {
      if (m.child?.pid && (!roles || roles.includes(m.plan.role))) m.child.kill(signal);
    }
  }

  /** Probes every running process once and records its health. */
  async probeAll(): Promise<void> {
    await Promise.all(
      this.managed.map(async (m) => {
        if (!m.child || m.state.health === 'restarting' || m.state.health === 'stopped') return;
        const ok = isHealthy(await probeHttp(m.plan.health), m.plan.health.require200);
        this.setHealth(m, ok ? 'healthy' : 'unhealthy');
      }),
    );
  }

  async stop(): Promise<void> {
    this.stopping = true;
    for (const m of [...this.managed].reverse()) {
      clearTimeout(m.restartTimer);
      const child = m.child;
      if (!child || child.exitCode !== null || child.signalCode !== null) continue;
      const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), this.opts.stopGraceMs);
      await exited;
      clearTimeout(timer);
    }
  }

  private launch(m: Managed): void {
    mkdirSync(path.dirname(m.plan.logFile), { recursive: true, mode: 0o700 });
    for (const dir of m.plan.privateDirs ?? []) makePrivateDir(dir);
    const fd = openSync(m.plan.logFile, 'a', 0o600);
    const env: Record<string, string> = { NODE_ENV: 'production' };
    for (const k of INHERITED_ENV) if (process.env[k]) env[k] = process.env[k]!;
    Object.assign(env, m.plan.env);
    // stdin is a pipe we never write to: the child reads end-of-file the moment this process dies,
    // however it dies, and exits (src/dataplane/parent-watch.ts). No child outlives its supervisor.
    env[SUPERVISOR_PIPE_ENV] = 'stdin';
    const child = this.spawn(process.execPath, [m.plan.entry, ...m.plan.args], { stdio: ['pipe', fd, fd], env });
    closeSync(fd);
    child.stdin?.on('error', () => undefined); // EPIPE once the child is gone: expected
    if (child.pid && m.plan.niceness !== undefined) {
      try {
        setPriority(child.pid, m.plan.niceness);
      } catch {
        // Only a preference: a system that refuses it still runs the stack.
      }
    }
    m.child = child;
    m.state.pid = child.pid ?? null;
    m.state.health = 'starting';
    this.changed();
    child.once('exit', (code, signal) => this.onExit(m, child, code, signal));
    child.once('error', () => undefined); // spawn failures surface as an exit and a failed probe
    if (child.pid) void this.recordStartIdentity(m, child, child.pid);
  }

  private async recordStartIdentity(m: Managed, child: ChildProcess, pid: number): Promise<void> {
    const info = await this.processTable.get(pid).catch(() => undefined);
    // Only while the child is still the one we launched: after an exit the pid may be someone else's.
    if (!info || m.child !== child || child.exitCode !== null || child.signalCode !== null) return;
    m.state.startIdentity = info.startIdentity;
    this.changed();
  }

  private onExit(m: Managed, child: ChildProcess, code: number | null, signal: NodeJS.Signals | null): void {
    if (m.child !== child) return;
    m.state.lastExit = { code, signal, at: new Date().toISOString() };
    m.state.pid = null;
    delete m.state.startIdentity;
    m.child = undefined;
    if (this.stopping) {
      m.state.health = 'stopped';
      this.changed();
      return;
    }
    m.consecutiveCrashes++;
    m.state.health = 'restarting';
    this.changed();
    const delay = Math.min(this.opts.restartDelayMs * 2 ** (m.consecutiveCrashes - 1), this.opts.maxRestartDelayMs);
    m.restartTimer = setTimeout(() => {
      if (this.stopping) return;
      m.state.restarts++;
      this.launch(m);
      void this.waitHealthy(m).then(
        () => void (m.consecutiveCrashes = 0),
        () => undefined, // still down: the next exit or probe records it
      );
    }, delay);
  }

  private async waitHealthy(m: Managed): Promise<void> {
    const deadline = Date.now() + this.opts.startTimeoutMs;
    const child = m.child;
    let last = 'no answer yet';
    while (Date.now() < deadline) {
      if (!child || m.child !== child) {
        const exit = m.state.lastExit;
        throw new StartupError(m.plan.name, `exited (code ${exit?.code ?? '?'}${exit?.signal ? `, signal ${exit.signal}` : ''})`, await tail(m.plan.logFile));
      }
      const result = await probeHttp(m.plan.health, 500);
      if (isHealthy(result, m.plan.health.require200)) {
        this.setHealth(m, 'healthy');
        return;
      }
      last = result.up ? `health check answered ${result.status}` : `health check: ${result.reason}`;
      await new Promise((r) => setTimeout(r, this.opts.pollMs));
    }
    throw new StartupError(m.plan.name, `not healthy after ${this.opts.startTimeoutMs} ms (${last})`, await tail(m.plan.logFile));
  }

  private setHealth(m: Managed, health: ProcessState['health']): void {
    if (m.state.health === health) return;
    m.state.health = health;
    this.changed();
  }

  private changed(): void {
    this.opts.onChange?.(this.snapshot());
  }
}

/**
 * A folder only this user can enter (0700, enforced even if it existed with a looser mode): the
 * sockets inside are the app's private link to its sidecar.
 */
function makePrivateDir(dir: string): void {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  chmodSync(path.dirname(dir), 0o700);
  chmodSync(dir, 0o700);
}

/** The last lines of a log file, for error messages. */
export async function tail(file: string, lines = 10): Promise<string[]> {
  try {
    const text = await readFile(file, 'utf8');
    return text.trimEnd().split('\n').slice(-lines);
  } catch {
    return [];
  }
}
