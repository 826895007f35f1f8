/**
 * The local supervisor daemon: started detached by `meshgw up` (so it leads its own process group,
 * which every child joins), it owns the stack's processes until `meshgw down` sends it SIGTERM.
 * Its only output is <stateDir>/local/run.json (and its log file).
 * argv[2]: the daemon input file written by `up` (mode 0600).
 */
import { readFile, rm } from 'node:fs/promises';
import type { DaemonInput } from './daemon-input.js';
import { writeSpecFiles } from './daemon-input.js';
import { systemProcessTable } from './process-table.js';
import { clearRunState, writeRunState, type LocalRunState, type ProcessState } from './state.js';
import { StartupError, Supervisor } from './supervisor.js';

const HEALTH_PROBE_INTERVAL_MS = 5_000;

async function main(): Promise<void> {
  // Signals first: a SIGTERM from an interrupted `up` must stop whatever has started by then.
  const live: { supervisor?: Supervisor; probeTimer?: NodeJS.Timeout; stateDir?: string } = {};
  let shuttingDown = false;
  let writes = Promise.resolve();
  const shutdown = async () => {
    if (shuttingDown) return;
    shuttingDown = true;
    clearInterval(live.probeTimer);
    await live.supervisor?.stop();
    await writes;
    if (live.stateDir) await clearRunState(live.stateDir);
    process.exit(0);
  };
  process.on('SIGTERM', () => void shutdown());
  process.on('SIGINT', () => void shutdown());
  // Certificate rotation: the sidecars and the gateway re-read their TLS files on SIGHUP.
  process.on('SIGHUP', () => live.supervisor?.signalAll('SIGHUP', ['sidecar', 'gateway']));

  const inputFile = process.argv[2];
  const input = JSON.parse(await readFile(inputFile, 'utf8')) as DaemonInput;
  live.stateDir = input.stateDir;
  // The input holds the token secret and key values: the spec files keep what each process needs.
  await rm(inputFile, { force: true });
  await writeSpecFiles(input.plan);

  const table = systemProcessTable();
  const self = await table.get(process.pid);
  const state: LocalRunState = {
    version: 1,
    configFile: input.configFile,
    startedAt: new Date().toISOString(),
    supervisorPid: process.pid,
    ...(self ? { supervisorIdentity: self.startIdentity } : {}),
    processGroup: self?.pgid ?? process.pid,
    gatewayUrl: input.plan.gatewayUrl,
    ready: false,
    workloads: input.plan.workloads.map((w) => ({ ...w, processes: [] })),
  };
  const save = () => {
    // After shutdown has cleared the record, nothing may write it back.
    if (shuttingDown) return writes;
    const snapshot = JSON.parse(JSON.stringify(state)) as LocalRunState;
    writes = writes.then(() => (shuttingDown ? undefined : writeRunState(input.stateDir, snapshot))).catch(() => undefined);
    return writes;
  };
  const onChange = (procs: ProcessState[]) => {
    for (const w of state.workloads) w.processes = procs.filter((p) => input.plan.processes.find((pp) => pp.name === p.name)?.workload === w.name);
    void save();
  };
  // The record (with the process group) exists before the first child does: `status` and `down`
  // can always find every process this daemon starts.
  await save();
  if (shuttingDown) return;
  const supervisor = new Supervisor(input.plan.processes, { onChange, processTable: table });
  live.supervisor = supervisor;

  try {
    await supervisor.start();
  } catch (err) {
    if (shuttingDown) return; // a stop cancelled the start: shutdown() finishes and exits
    const e = err instanceof StartupError ? err : new StartupError('supervisor', String((err as Error).message ?? err), []);
    state.failure = { workload: e.workload, reason: e.reason, logTail: e.logTail };
    await save();
    process.exit(1);
  }
  if (shuttingDown) return;
  state.ready = true;
  await save();
  live.probeTimer = setInterval(() => void supervisor.probeAll(), HEALTH_PROBE_INTERVAL_MS);
}

main().catch((err) => {
  process.stderr.write(`meshgw supervisor: ${(err as Error).stack ?? String(err)}\n`);
  process.exit(1);
});
