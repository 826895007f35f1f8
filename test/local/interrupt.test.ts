// Ctrl-C during `meshgw up` (issue 14, item 3), for real: the meshgw CLI as a child process gets
// SIGINT at several moments of its start; afterwards the stack's processes are looked for in Linux
// /proc (proc-scan.ts), independently of the code under test. Scratch state folder, gateway port 0.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, afterEach, describe, it } from 'node:test';
import { runMeshgw, type CliRun } from '../support/cli.js';
import { readRunState, type LocalRunState } from '../../src/local/state.js';
import { killStack, scanStackProcesses, waitForScan, type ScannedProcess } from './proc-scan.js';

const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '../../..');
const dirs: string[] = [];
const ups: ChildProcess[] = [];

async function scratch(): Promise<{ config: string; stateDir: string }> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'meshgw-interrupt-'));
  dirs.push(dir);
  const config = path.join(dir, 'meshgw.yaml');
  await writeFile(config, (await readFile(path.join(root, 'meshgw.yaml'), 'utf8')).replace('gatewayPort: 8080', 'gatewayPort: 0'));
  return { config, stateDir: path.join(dir, '.meshgw') };
}

const meshgw = (args: string[]): Promise<CliRun> => runMeshgw(args);

interface Moment {
  run: LocalRunState | undefined;
  /** Processes of the stack (from /proc): the supervisor once it is launched, then its children. */
  processes: ScannedProcess[];
}
type Trigger = { afterMs: number } | { when: (m: Moment) => boolean };

/** Waits until the trigger holds (or `up` ended on its own), polling every 10 ms within a deadline. */
async function reached(trigger: Trigger, stateDir: string, up: ChildProcess, started: number): Promise<void> {
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline && up.exitCode === null && up.signalCode === null) {
    if ('afterMs' in trigger ? Date.now() - started >= trigger.afterMs : trigger.when({ run: await readRunState(stateDir).catch(() => undefined), processes: await scanStackProcesses(stateDir) })) return;
    await new Promise((r) => setTimeout(r, 10));
  }
}

afterEach(async () => {
  for (const up of ups) up.kill('SIGKILL');
  for (const dir of dirs) await killStack(path.join(dir, '.meshgw'));
});
after(async () => {
  for (const dir of dirs) await rm(dir, { recursive: true, force: true });
});

const triggers: [string, Trigger][] = [
  ['50 ms after it starts', { afterMs: 50 }],
  ['200 ms after it starts', { afterMs: 200 }],
  ['300 ms after it starts', { afterMs: 300 }],
  ['800 ms after it starts', { afterMs: 800 }],
  // Before it has written anything: the moment `up` used to miss, leaving the whole stack running.
  ['as soon as the supervisor process exists', { when: (m) => m.processes.some((p) => p.command.includes('daemon-main.js')) }],
  ['once the supervisor has written its record', { when: (m) => m.run !== undefined }],
  ['once the first child process runs', { when: (m) => m.processes.some((p) => !p.command.includes('daemon-main.js')) }],
  ['once the first process is healthy', { when: (m) => !!m.run?.workloads.some((w) => w.processes.some((p) => p.health === 'healthy')) }],
];

describe('Ctrl-C during meshgw up', { timeout: 600_000 }, () => {
  for (const [moment, trigger] of triggers) {
    it(`leaves nothing running, or a stack that status shows and down stops, when it comes ${moment}`, async () => {
      const { config, stateDir } = await scratch();
      const started = Date.now();
      const up = spawn(process.execPath, [path.join(root, 'bin/meshgw'), '-c', config, 'up'], { stdio: ['ignore', 'pipe', 'pipe'] });
      ups.push(up);
      let stderr = '';
      up.stderr!.on('data', (d: Buffer) => void (stderr += d.toString()));
      up.stdout!.resume();
      const exited = new Promise<void>((r) => up.once('exit', () => r()));
      await reached(trigger, stateDir, up, started);
      const run = await readRunState(stateDir).catch(() => undefined);
      // The supervisor's group, if it got that far: its members are the stack even once it is gone.
      const groups = run ? [run.processGroup ?? run.supervisorPid] : [];
      up.kill('SIGINT');
      await exited;

      const status = await meshgw(['-c', config, '-o', 'json', 'status']);
      const s = JSON.parse(status.stdout) as { running: boolean };
      if (s.running) {
        // The stack got to ready before the interrupt took effect: status shows it, and down stops it all.
        assert.doesNotMatch(stderr, /stopped|interrupted/, 'no claim that it was stopped');
        const down = await meshgw(['-c', config, 'down']);
        assert.equal(down.code, 0, down.stderr);
      } else if (/interrupted/.test(stderr)) {
        assert.equal(up.exitCode, 1, stderr);
      }
      await waitForScan(stateDir, (procs) => procs.length === 0, 5_000, groups);
      assert.deepEqual(await scanStackProcesses(stateDir, groups), []);
    });
  }
});
