// Killing the local supervisor (issue 14, item 1), for real: the detached supervisor daemon and its
// seven children (three apps, three sidecars, the gateway) on 127.0.0.1 ports chosen at run time,
// in a scratch state folder; the survivors are found from Linux /proc (proc-scan.ts), not from the
// code under test. The recycled-pid case uses real unrelated processes (`sleep`).
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { access, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, afterEach, describe, it } from 'node:test';
import { runMeshgw, type CliRun } from '../support/cli.js';
import { loadConfig, type LoadedConfig } from '../../src/config/load.js';
import { MeshgwError } from '../../src/errors.js';
import { startLocalStack, stopLocalStack } from '../../src/local/stack.js';
import { localStatus } from '../../src/local/status.js';
import { readRunState, runStateFile, writeRunState, type LocalRunState } from '../../src/local/state.js';
import { killStack, scanStackProcesses, waitForScan } from './proc-scan.js';

const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '../../..');
const dirs: string[] = [];
const strays: ChildProcess[] = [];

async function scratch(): Promise<LoadedConfig> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'meshgw-orphans-'));
  dirs.push(dir);
  const text = (await readFile(path.join(root, 'meshgw.yaml'), 'utf8')).replace('gatewayPort: 8080', 'gatewayPort: 0');
  const file = path.join(dir, 'meshgw.yaml');
  await writeFile(file, text);
  return loadConfig(file);
}

function meshgw(args: string[], loaded: LoadedConfig): Promise<CliRun> {
  return runMeshgw(['-c', loaded.file, ...args]);
}

// An unrelated process that reports any signal it gets, and answers "ping" with "pong".
const STRANGER = `
for (const s of ['SIGTERM', 'SIGINT', 'SIGHUP', 'SIGCONT']) process.on(s, () => process.stdout.write(s + '\\n'));
process.stdin.on('data', () => process.stdout.write('pong\\n'));
`;

function stranger(): ChildProcess {
  return spawn(process.execPath, ['-e', STRANGER], { stdio: ['pipe', 'pipe', 'inherit'] });
}

/** Sends "ping" and resolves with the next line the stranger writes. */
function ping(c: ChildProcess): Promise<string> {
  return new Promise((resolve) => {
    c.stdout!.once('data', (d: Buffer) => resolve(d.toString().trim()));
    c.stdin!.write('ping\n');
  });
}

const exists = (file: string) => access(file).then(() => true, () => false);

afterEach(async () => {
  for (const dir of dirs) await killStack(path.join(dir, '.meshgw'));
  for (const c of strays) c.kill('SIGKILL');
});
after(async () => {
  for (const dir of dirs) await rm(dir, { recursive: true, force: true });
});

describe('a killed local supervisor', { timeout: 240_000 }, () => {
  it('takes its seven processes with it: each exits on its own once the supervisor is SIGKILLed', async () => {
    const loaded = await scratch();
    const { run } = await startLocalStack(loaded, { port: 0 });
    const before = await scanStackProcesses(loaded.stateDir);
    assert.equal(before.length, 8, `the supervisor and seven children: ${JSON.stringify(before)}`);
    assert.ok(before.every((p) => p.pgid === run.supervisorPid), 'every process is in the supervisor\'s process group');

    process.kill(run.supervisorPid, 'SIGKILL');
    await waitForScan(loaded.stateDir, (procs) => procs.length === 0, 20_000, [run.supervisorPid]);
    const status = await localStatus(loaded);
    assert.equal(status.running, false);
    assert.equal(await exists(runStateFile(loaded.stateDir)), false, 'a record that nothing alive matches is removed');
  });

  it('leaves processes that could not exit visible to status as orphaned, keeps the record, and down ends them all', async () => {
    const loaded = await scratch();
    const { run } = await startLocalStack(loaded, { port: 0 });
    const procs = run.workloads.flatMap((w) => w.processes);
    const stuck = procs.filter((p) => p.name === 'gateway' || p.name === 'users').map((p) => p.pid!);
    // A stopped process cannot read its supervisor's end-of-file: it stays, as a hung one would.
    for (const pid of stuck) process.kill(pid, 'SIGSTOP');
    process.kill(run.supervisorPid, 'SIGKILL');
    await waitForScan(loaded.stateDir, (now) => now.length === stuck.length && now.every((p) => stuck.includes(p.pid)), 20_000, [run.supervisorPid]);

    const status = await meshgw(['-o', 'json', 'status'], loaded);
    assert.equal(status.code, 1, status.stderr);
    const s = JSON.parse(status.stdout) as { running: boolean; healthy: boolean; supervisor: string; workloads: { processes: { name: string; pid: number | null }[] }[] };
    assert.deepEqual({ running: s.running, healthy: s.healthy, supervisor: s.supervisor }, { running: true, healthy: false, supervisor: 'gone' });
    const shown = s.workloads.flatMap((w) => w.processes).filter((p) => p.pid !== null).map((p) => p.name).sort();
    assert.deepEqual(shown, ['gateway', 'users']);
    const text = await meshgw(['status'], loaded);
    assert.match(text.stdout, /orphaned/);
    assert.match(text.stdout, /run `meshgw down`/);
    assert.ok(await exists(runStateFile(loaded.stateDir)), 'status keeps the record while processes of the stack run');

    await assert.rejects(startLocalStack(loaded, { port: 0, orphanWaitMs: 0 }), (err: unknown) => err instanceof MeshgwError && err.code === 'STACK_BAD_STATE' && /meshgw down/.test(err.hint ?? ''));
    assert.equal((await scanStackProcesses(loaded.stateDir)).length, stuck.length, 'up started nothing beside the orphans');

    const down = await meshgw(['down'], loaded);
    assert.equal(down.code, 0, down.stderr);
    assert.match(down.stdout, /its supervisor was gone; ended the 2 processes/);
    for (const pid of stuck) assert.match(down.stdout, new RegExp(`\\(pid ${pid}\\)`));
    assert.deepEqual(await scanStackProcesses(loaded.stateDir, [run.supervisorPid]), [], 'down leaves nothing of the stack');
    assert.equal(await exists(runStateFile(loaded.stateDir)), false);
    const again = await meshgw(['down'], loaded);
    assert.match(again.stdout, /was not running/);
  });

  it('never signals a pid the OS has given to another process since', async () => {
    const loaded = await scratch();
    const { run } = await startLocalStack(loaded, { port: 0 });
    await stopLocalStack(loaded.stateDir);
    // Unrelated live processes now hold the recorded pids (as recycled pids would): same user, other start times.
    const strangers = [stranger(), stranger()];
    strays.push(...strangers);
    await Promise.all(strangers.map((c) => ping(c)));
    const [a, b] = strangers.map((c) => c.pid!);
    const forged: LocalRunState = { ...run, supervisorPid: a, processGroup: a, workloads: run.workloads.map((w, i) => ({ ...w, processes: w.processes.map((p) => ({ ...p, pid: i === 0 ? b : p.pid })) })) };
    await writeRunState(loaded.stateDir, forged);

    const status = await localStatus(loaded);
    assert.equal(status.running, false, 'the strangers are not taken for the stack');
    await writeRunState(loaded.stateDir, forged);
    assert.deepEqual(await stopLocalStack(loaded.stateDir, 2_000), { type: 'not-running' });
    // Two round trips each: a signal sent before the first ping has surely been handled by the second.
    for (const c of strangers) assert.deepEqual([await ping(c), await ping(c)], ['pong', 'pong'], 'down signalled neither stranger');
    assert.equal(await readRunState(loaded.stateDir), undefined);
  });
});
