// The CLI as a user runs it: exit codes (0 pass, 1 fail, 2 usage/config, 3 environment), messages on
// stderr, and --output json as the only thing on stdout.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { runMeshgw } from '../support/cli.js';

const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '../../..');

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

function meshgw(args: string[], cwd: string, env: NodeJS.ProcessEnv = {}): Promise<Run> {
  return runMeshgw(args, { cwd, env });
}

describe('the meshgw command line', () => {
  let dir: string;
  let good: string;

  before(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'meshgw-cli-'));
    good = path.join(dir, 'meshgw.yaml');
    await writeFile(good, await readFile(path.join(root, 'meshgw.yaml'), 'utf8'));
  });
  after(async () => rm(dir, { recursive: true, force: true }));

  it('lists every command with one line each on --help and exits 0', async () => {
    const r = await meshgw(['--help'], dir);
    assert.equal(r.code, 0);
    for (const cmd of ['up', 'push', 'deploy', 'verify', 'status', 'down', 'demo', 'certs', 'ci-role', 'doctor', 'trace', 'top']) assert.match(r.stdout, new RegExp(`^  ${cmd}\\b`, 'm'), cmd);
  });

  it('explains a command\'s options on <command> --help', async () => {
    const r = await meshgw(['verify', '--help'], dir);
    assert.equal(r.code, 0);
    assert.match(r.stdout, /throttle \| auth \| mtls \| resilience \| all/);
    assert.match(r.stdout, /--tolerance <fraction>/);
  });

  it('loads neither the AWS SDK nor the Kubernetes client for --help', async () => {
    const log = path.join(dir, 'imports.log');
    for (const args of [['--help'], ['doctor', '--help'], ['deploy', '--help']]) {
      await writeFile(log, '');
      const r = await new Promise<Run>((resolve) => {
        execFile(process.execPath, ['--import', path.join(root, 'test/cli/fixtures/record-imports.mjs'), path.join(root, 'bin/meshgw'), ...args], { cwd: dir, env: { ...process.env, MESHGW_IMPORT_LOG: log } }, (err, stdout, stderr) =>
          resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
        );
      });
      assert.equal(r.code, 0, r.stderr);
      const loaded = (await readFile(log, 'utf8')).split('\n').filter(Boolean);
      assert.ok(loaded.some((u) => u.includes('/commander/')), 'the recorder sees the modules meshgw imports');
      assert.deepEqual(loaded.filter((u) => /@aws-sdk|@smithy|@kubernetes\/client-node/.test(u)), [], args.join(' '));
    }
  });

  it('exits 2 for a port outside 0-65535 or not a whole number, naming --port', async () => {
    for (const port of ['70000', '-1', '80.5', 'http', '0x50', '1e3', ' 80', '']) {
      const r = await meshgw(['-c', good, 'up', '--port', port], dir);
      assert.equal(r.code, 2, `${port}: ${r.stderr}`);
      assert.match(r.stderr, new RegExp(`--port: expected a whole number from 0 to 65535, got "${port.replace('.', '\\.')}"`));
      assert.match(r.stderr, /hint: A TCP port is 1 to 65535; --port 0 picks any free port\./);
      assert.doesNotMatch(r.stderr, /unexpected error/);
    }
  });

  it('exits 2 for a throttle rate or duration too large to run, naming the option and its bound', async () => {
    for (const [option, value, bound] of [['--over-rps', '100000000', '10000'], ['--normal-seconds', '1e9', '3600'], ['--normal-rps', 'Infinity', '10000']]) {
      const r = await meshgw(['-c', good, 'verify', 'throttle', option, value], dir);
      assert.equal(r.code, 2, `${option} ${value}: ${r.stderr}`);
      assert.match(r.stderr, new RegExp(`${option}: expected a number from 1 to ${bound}, got "${value}"`));
      assert.doesNotMatch(r.stderr, /unexpected error/);
    }
  });

  it('declares --kubeconfig and --context on down, deploy and verify', async () => {
    for (const cmd of ['down', 'deploy', 'verify']) {
      const r = await meshgw([cmd, '--help'], dir);
      assert.match(r.stdout, /--kubeconfig <file>/, cmd);
      assert.match(r.stdout, /--context <name>\s+kubeconfig context; refused unless its server is the\s+stack's cluster/, cmd);
    }
  });

  it('exits 2 on an unknown command', async () => {
    const r = await meshgw(['frobnicate'], dir);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /unknown command 'frobnicate'/);
  });

  it('exits 2 naming the file and field of a broken config, and starts nothing', async () => {
    const bad = path.join(dir, 'bad.yaml');
    await writeFile(bad, (await readFile(good, 'utf8')).replace('backends: [users, products]', 'backends: [users, payments]'));
    const r = await meshgw(['up'], dir, { MESHGW_CONFIG: bad });
    assert.equal(r.code, 2);
    assert.equal(r.stderr.split('\n')[0], `meshgw: ${bad}: services.orders.backends.1: unknown service "payments" (known: users, products, orders)`);
    assert.match(r.stderr, /hint: Fix that field/);
    assert.equal(r.stdout, '');
  });

  it('exits 2 when the config file does not exist, saying how to choose one', async () => {
    const r = await meshgw(['status'], dir, { MESHGW_CONFIG: path.join(dir, 'nope.yaml') });
    assert.equal(r.code, 2);
    assert.match(r.stderr, /nope\.yaml: no such file/);
    assert.match(r.stderr, /--config FILE or set MESHGW_CONFIG/);
  });

  it('exits 2 on a bad option value, naming the option', async () => {
    const r = await meshgw(['-c', good, 'verify', 'throttle', '--over-rps', 'fast'], dir);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /--over-rps: expected a number from 1 to 10000, got "fast"/);
    const t = await meshgw(['-c', good, 'verify', 'all', '--tolerance', '5'], dir);
    assert.equal(t.code, 2);
    assert.match(t.stderr, /--tolerance: expected a fraction below 1/);
  });

  it('prints status as JSON only and exits 1 when the local stack is not running', async () => {
    const r = await meshgw(['-c', good, '-o', 'json', 'status'], dir);
    assert.equal(r.code, 1);
    const s = JSON.parse(r.stdout) as { target: string; running: boolean; healthy: boolean; workloads: unknown[] };
    assert.deepEqual({ target: s.target, running: s.running, healthy: s.healthy, workloads: s.workloads }, { target: 'local', running: false, healthy: false, workloads: [] });
  });

  it('exits 3 with a way forward when the aws target has no stack outputs yet', async () => {
    const r = await meshgw(['-c', good, 'push'], dir, { AWS_ACCESS_KEY_ID: 'x', AWS_SECRET_ACCESS_KEY: 'x', AWS_ENDPOINT_URL: 'http://127.0.0.1:9' });
    assert.equal(r.code, 3, r.stderr);
    assert.match(r.stderr, /meshgw up --target aws/);
  });
});
