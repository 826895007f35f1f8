import { MESHGW_ROOT } from './plan.js';
import { systemProcessTable, type ProcessInfo, type ProcessTable } from './process-table.js';
import type { LocalRunState, ProcessState } from './state.js';

/** What identifies a local stack's processes on this machine, with or without its supervisor. */
export interface StackRef {
  supervisorPid: number;
  supervisorIdentity?: string;
  processGroup: number;
  /** The processes as last recorded (name, pid and start time). */
  processes: Pick<ProcessState, 'name' | 'pid' | 'startIdentity'>[];
}

/** One live process of the stack. */
export interface StackProcess {
  pid: number;
  name: string;
}

export interface StackProcessOptions {
  table?: ProcessTable;
  kill?: (pid: number, signal: NodeJS.Signals) => void;
  pollMs?: number;
}

export interface StopStackOptions extends StackProcessOptions {
  /** How long the supervisor may take to stop the stack after SIGTERM. */
  supervisorTimeoutMs?: number;
  /** Between SIGTERM and SIGKILL for processes the supervisor left behind. */
  graceMs?: number;
}

export interface StopStackOutcome {
  /** stopped: it ended the stack on SIGTERM; killed: it hung and got SIGKILL; gone: it was already dead. */
  supervisor: 'stopped' | 'killed' | 'gone';
  /** Processes that were still running without a supervisor and that `down` ended itself. */
  ended: StackProcess[];
}

const POLL_MS = 50;
const KILL_WAIT_MS = 5_000;

export function stackRef(run: LocalRunState): StackRef {
  const processes = run.workloads.flatMap((w) => w.processes);
  return { supervisorPid: run.supervisorPid, supervisorIdentity: run.supervisorIdentity, processGroup: run.processGroup ?? run.supervisorPid, processes };
}

/** Whether this pid is still the process that was recorded (not one that got the pid later). */
function isSameProcess(info: ProcessInfo | undefined, identity: string | undefined): info is ProcessInfo {
  if (!info) return false;
  // A record without a start time (written before it was recorded) falls back to "a meshgw process".
  return identity ? info.startIdentity === identity : info.command.includes(MESHGW_ROOT);
}

export async function isSupervisorAlive(ref: StackRef, table: ProcessTable = systemProcessTable()): Promise<boolean> {
  return isSameProcess(await table.get(ref.supervisorPid), ref.supervisorIdentity);
}

/**
 * Every live process of the stack, the supervisor included: the members of its process group that
 * run meshgw code, and each recorded pid whose start time still matches. A pid or group id that the
 * OS has handed to another process since is never counted.
 */
export async function findStackProcesses(ref: StackRef, table: ProcessTable = systemProcessTable()): Promise<StackProcess[]> {
  const names = new Map<number, string>(ref.processes.filter((p) => p.pid).map((p) => [p.pid!, p.name]));
  names.set(ref.supervisorPid, 'supervisor');
  const found = new Map<number, StackProcess>();
  const add = (info: ProcessInfo) => found.set(info.pid, { pid: info.pid, name: names.get(info.pid) ?? describeCommand(info.command) });

  const supervisor = await table.get(ref.supervisorPid);
  if (isSameProcess(supervisor, ref.supervisorIdentity)) add(supervisor);
  const members = await table.group(ref.processGroup);
  // A group id stays taken while any member lives; a leader that is not our supervisor means the
  // group emptied and the id was reused, so its members are someone else's.
  const leader = members.find((m) => m.pid === ref.processGroup);
  const groupReused = leader !== undefined && ref.processGroup === ref.supervisorPid && !isSameProcess(leader, ref.supervisorIdentity);
  if (!groupReused) for (const m of members) if (m.command.includes(MESHGW_ROOT)) add(m);
  for (const p of ref.processes) {
    if (!p.pid || !p.startIdentity || found.has(p.pid)) continue;
    const info = await table.get(p.pid);
    if (isSameProcess(info, p.startIdentity)) add(info);
  }
  return [...found.values()].sort((a, b) => a.pid - b.pid);
}

function describeCommand(command: string): string {
  const script = command.split(' ').find((part) => part.startsWith(MESHGW_ROOT));
  return script ? `process of ${script.slice(MESHGW_ROOT.length + 1)}` : 'process';
}

function sendSignal(kill: NonNullable<StackProcessOptions['kill']>, pid: number, signal: NodeJS.Signals): void {
  try {
    kill(pid, signal);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ESRCH') throw err; // already gone: the goal
  }
}

async function waitUntil(check: () => Promise<boolean>, timeoutMs: number, pollMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await check()) return true;
    if (Date.now() >= deadline) return false;
    await new Promise((r) => setTimeout(r, pollMs));
  }
}

/**
 * Stops a local stack for good: asks the supervisor (SIGTERM, it stops its children in order),
 * kills it if it hangs, then ends whatever of the stack is still running — processes a killed
 * supervisor left behind — with SIGTERM and, after a grace period, SIGKILL. Returns once none is left.
 */
export async function stopStackProcesses(ref: StackRef, opts: StopStackOptions = {}): Promise<StopStackOutcome> {
  const table = opts.table ?? systemProcessTable();
  const kill = opts.kill ?? ((pid, signal) => void process.kill(pid, signal));
  const pollMs = opts.pollMs ?? POLL_MS;
  const supervisorGone = async () => !(await isSupervisorAlive(ref, table));

  let supervisor: StopStackOutcome['supervisor'] = 'gone';
  if (!(await supervisorGone())) {
    sendSignal(kill, ref.supervisorPid, 'SIGTERM');
    supervisor = 'stopped';
    if (!(await waitUntil(supervisorGone, opts.supervisorTimeoutMs ?? 20_000, pollMs))) {
      sendSignal(kill, ref.supervisorPid, 'SIGKILL');
      supervisor = 'killed';
      await waitUntil(supervisorGone, KILL_WAIT_MS, pollMs);
    }
  }
  // With the supervisor gone nothing starts new processes, so this list can only shrink.
  const left = (await findStackProcesses(ref, table)).filter((p) => p.pid !== ref.supervisorPid);
  if (left.length === 0) return { supervisor, ended: [] };
  const remaining = async () => (await findStackProcesses(ref, table)).filter((p) => p.pid !== ref.supervisorPid);
  for (const p of left) {
    sendSignal(kill, p.pid, 'SIGTERM');
    // A stopped process (SIGSTOP, a debugger) only acts on SIGTERM once continued; systemd does the same.
    sendSignal(kill, p.pid, 'SIGCONT');
  }
  if (!(await waitUntil(async () => (await remaining()).length === 0, opts.graceMs ?? 5_000, pollMs))) {
    for (const p of await remaining()) sendSignal(kill, p.pid, 'SIGKILL');
    await waitUntil(async () => (await remaining()).length === 0, KILL_WAIT_MS, pollMs);
  }
  return { supervisor, ended: left };
}
