import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { allocateFreePorts } from '../../src/local/ports.js';
import type { ProcessPlan } from '../../src/local/plan.js';
import type { ProcessState } from '../../src/local/state.js';
import { isAlive } from '../../src/local/state.js';
import { StartupError, Supervisor } from '../../src/local/supervisor.js';

// A stand-in workload: serves /healthz on PORT; exits when asked over HTTP, or at once with FAIL_AT_START.
const FAKE_WORKLOAD = `
import http from 'node:http';
if (process.env.FAIL_AT_START) { console.log('fatal: missing TOKEN_SECRET'); process.exit(7); }
const server = http.createServer((req, res) => {
  if (req.url === '/crash') { res.end('bye'); setImmediate(() => process.exit(3)); return; }
  res.writeHead(req.url === '/healthz' ? 200 : 404).end(JSON.stringify({ pid: process.pid }));
});
server.listen(Number(process.env.PORT), '127.0.0.1');
process.on('SIGTERM', () => server.close(() => process.exit(0)));
`;

let dir: string;
let entry: string;

before(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'meshgw-supervisor-'));
  entry = path.join(dir, 'fake.mjs');
  await writeFile(entry, FAKE_WORKLOAD);
});
after(async () => rm(dir, { recursive: true, force: true }));

function plan(name: string, port: number, env: Record<string, string> = {}): ProcessPlan {
  return {
    name,
    workload: name,
    role: 'app',
    entry,
    args: [],
    env: { PORT: String(port), ...env },
    health: { url: `http://127.0.0.1:${port}/healthz`, require200: true },
    logFile: path.join(dir, `${name}.log`),
  };
}

function waitFor(states: () => ProcessState[], pred: (s: ProcessState[]) => boolean, timeoutMs = 10_000): Promise<void> {
  return new Promise((resolve, reject) => {
    const deadline = Date.now() + timeoutMs;
    const tick = () => {
      if (pred(states())) return resolve();
      if (Date.now() > deadline) return reject(new Error(`condition not met: ${JSON.stringify(states())}`));
      setTimeout(tick, 20);
    };
    tick();
  });
}

describe('the local supervisor', () => {
  it('starts every process, reports each healthy, and stops them all', async () => {
    const [a, b] = await allocateFreePorts(2);
    const sup = new Supervisor([plan('users', a), plan('orders', b)], { restartDelayMs: 10 });
    await sup.start();
    const states = sup.snapshot();
    assert.deepEqual(states.map((s) => [s.name, s.health]), [['users', 'healthy'], ['orders', 'healthy']]);
    const pids = states.map((s) => s.pid!);
    assert.ok(pids.every(isAlive));
    await sup.stop();
    assert.ok(pids.every((p) => !isAlive(p)), 'no child outlives stop()');
    assert.deepEqual(sup.snapshot().map((s) => s.health), ['stopped', 'stopped']);
  });

  it('restarts a crashed process and counts the restart', async () => {
    const [port] = await allocateFreePorts(1);
    const sup = new Supervisor([plan('products', port)], { restartDelayMs: 10 });
    await sup.start();
    const firstPid = sup.snapshot()[0].pid;
    await fetch(`http://127.0.0.1:${port}/crash`).then((r) => r.text());
    await waitFor(() => sup.snapshot(), ([s]) => s.restarts === 1 && s.health === 'healthy' && s.pid !== firstPid);
    const [s] = sup.snapshot();
    assert.equal(s.lastExit?.code, 3);
    const res = await fetch(`http://127.0.0.1:${port}/healthz`);
    assert.equal(res.status, 200, 'the restarted process serves again');
    await sup.stop();
  });

  it('launches nothing more once stop() is called during start(), and leaves no child running', { timeout: 60_000 }, async () => {
    const [a, b, c] = await allocateFreePorts(3);
    let stopping: Promise<void> | undefined;
    // An interrupted `up` stops the daemon just as its first process turns healthy.
    const onChange = (states: ProcessState[]) => {
      if (!stopping && states[0].health === 'healthy') stopping = sup.stop();
    };
    const sup: Supervisor = new Supervisor([plan('users', a), plan('products', b), plan('orders', c)], { onChange, stopGraceMs: 2_000 });
    const err = await sup.start().then(
      () => assert.fail('start() succeeded although stop() was called'),
      (e: unknown) => e,
    );
    assert.ok(err instanceof StartupError);
    assert.match(err.reason, /cancelled/);
    await stopping;
    assert.equal(sup.snapshot()[0].lastExit?.code, 0, 'the first process ran and was stopped (SIGTERM, exit 0)');
    assert.deepEqual(sup.snapshot().map((s) => [s.name, s.health, s.pid]), [['users', 'stopped', null], ['products', 'stopped', null], ['orders', 'stopped', null]]);
    for (const port of [b, c]) await assert.rejects(fetch(`http://127.0.0.1:${port}/healthz`), 'nothing listens where a later process would have');
  });

  it('names the process that failed to start, with its last log lines, and stops the others', async () => {
    const [a, b] = await allocateFreePorts(2);
    const sup = new Supervisor([plan('products', a), plan('users', b, { FAIL_AT_START: '1' })], { startTimeoutMs: 5_000 });
    const err = await sup.start().then(
      () => assert.fail('start() succeeded'),
      (e: unknown) => e,
    );
    assert.ok(err instanceof StartupError);
    assert.equal(err.workload, 'users');
    assert.match(err.reason, /exited \(code 7\)/);
    assert.deepEqual(err.logTail, ['fatal: missing TOKEN_SECRET']);
    const products = sup.snapshot()[0];
    assert.equal(products.health, 'stopped', 'the process started before it was stopped');
    assert.match(await readFile(path.join(dir, 'users.log'), 'utf8'), /missing TOKEN_SECRET/);
  });
});
