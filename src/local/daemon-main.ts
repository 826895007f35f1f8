/**
 * The local supervisor daemon: started detached by `meshgw up`, it owns the stack's processes until
 * `meshgw down` sends it SIGTERM. Its only output is <stateDir>/local/run.json (and its log file).
 * argv[2]: the daemon input file written by `up` (mode 0600).
 */
import { readFile, rm } from 'node:fs/promises';
import type { DaemonInput } from './daemon-input.js';
import { writeSpecFiles } from './daemon-input.js';
import { clearRunState, writeRunState, type LocalRunState, type ProcessState } from './state.js';
import { StartupError, Supervisor } from './supervisor.js';

const HEALTH_PROBE_INTERVAL_MS = 5_000;

async function main(): Promise<void> {
  const inputFile = process.argv[2];
  const input = JSON.parse(await readFile(inputFile, 'utf8')) as DaemonInput;
  // The input holds the token secret and key values: the spec files keep what each process needs.
  await rm(inputFile, { force: true });
  await writeSpecFiles(input.plan);

  const state: LocalRunState = {
    version: 1,
    configFile: input.configFile,
    startedAt: new Date().toISOString(),
    supervisorPid: process.pid,
    gatewayUrl: input.plan.gatewayUrl,
    ready: false,
    workloads: input.plan.workloads.map((w) => ({ ...w, processes: [] })),
  };
  let writes = Promise.resolve();
  const save = () => {
    const snapshot = JSON.parse(JSON.stringify(state)) as LocalRunState;
    writes = writes.then(() => writeRunState(input.stateDir, snapshot)).catch(() => undefined);
    return writes;
  };
  const onChange = (procs: ProcessState[]) => {
    for (const w of state.workloads) w.processes = procs.filter((p) => input.plan.processes.find((pp) => pp.name === p.name)?.workload === w.name);
    void save();
  };
  const supervisor = new Supervisor(input.plan.processes, { onChange });

  let shuttingDown = false;
  const shutdown = async () => {
    if (shuttingDown) return;
    shuttingDown = true;
    clearInterval(timers.probe);
    await supervisor.stop();
    await writes;
    await clearRunState(input.stateDir);
    process.exit(0);
  };
  process.on('SIGTERM', () => void shutdown());
  process.on('SIGINT', () => void shutdown());
  // Certificate rotation: the sidecars and the gateway re-read their TLS files on SIGHUP.
  process.on('SIGHUP', () => supervisor.signalAll('SIGHUP', ['sidecar', 'gateway']));

  const timers: { probe?: NodeJS.Timeout } = {};
  try {
    await supervisor.start();
  } catch (err) {
    const e = err instanceof StartupError ? err : new StartupError('supervisor', String((err as Error).message ?? err), []);
    state.failure = { workload: e.workload, reason: e.reason, logTail: e.logTail };
    await save();
    process.exit(1);
  }
  state.ready = true;
  await save();
  timers.probe = setInterval(() => void supervisor.probeAll(), HEALTH_PROBE_INTERVAL_MS);
}

main().catch((err) => {
  process.stderr.write(`meshgw supervisor: ${(err as Error).stack ?? String(err)}\n`);
  process.exit(1);
});
