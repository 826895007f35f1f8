import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { type IncomingMessage, request } from 'node:http';
import { createInterface } from 'node:readline';
import { after, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { TOKEN_SECRET } from './fixtures.js';
import { connectionRefused } from './helpers.js';

const entry = (name: string) => fileURLToPath(new URL(`../../services/${name}/main.js`, import.meta.url));

interface Spawned {
  child: ChildProcess;
  stdout: string[];
  stderr: string[];
  /** Resolves with the first stderr JSON line whose event matches. */
  event(name: string): Promise<Record<string, unknown>>;
  exited: Promise<number | null>;
}

function start(name: string, env: Record<string, string>): Spawned {
  const child = spawn(process.execPath, [entry(name)], { env: { PATH: process.env.PATH ?? '', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  const stdout: string[] = [];
  const stderr: string[] = [];
  const waiting = new Map<string, (line: Record<string, unknown>) => void>();
  createInterface({ input: child.stdout! }).on('line', (l) => stdout.push(l));
  createInterface({ input: child.stderr! }).on('line', (l) => {
    stderr.push(l);
    try {
      const parsed = JSON.parse(l) as Record<string, unknown>;
      waiting.get(String(parsed.event))?.(parsed);
    } catch {
      // not a lifecycle line (e.g. the one-line env error)
    }
  });
  const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
  return {
    child,
    stdout,
    stderr,
    exited,
    event: (eventName) => new Promise((resolve) => waiting.set(eventName, resolve)),
  };
}

describe('service processes', { timeout: 15_000 }, () => {
  it('exits 2 with one line on stderr and nothing on stdout when TOKEN_SECRET is missing', async () => {
    const p = start('users', { HOST: '127.0.0.1', PORT: '0' });
    assert.equal(await p.exited, 2);
    assert.deepEqual(p.stderr, ['users: invalid environment: TOKEN_SECRET is not set']);
    assert.deepEqual(p.stdout, []);
  });

  it('exits 2 naming the variable when orders gets a USERS_URL that is not a URL', async () => {
    const p = start('orders', { HOST: '127.0.0.1', PORT: '0', USERS_URL: 'users:8080', PRODUCTS_URL: 'http://127.0.0.1:1' });
    assert.equal(await p.exited, 2);
    assert.equal(p.stderr.length, 1);
    assert.match(p.stderr[0], /^orders: invalid environment: USERS_URL must be/);
  });

  it('exits 2 naming DATA_DIR and DYNAMODB_TABLE when it has nowhere durable to keep users', async () => {
    const p = start('users', { HOST: '127.0.0.1', PORT: '0', TOKEN_SECRET });
    assert.equal(await p.exited, 2);
    assert.deepEqual(p.stderr, ['users: invalid environment: DATA_DIR (a folder for the SQLite file) or DYNAMODB_TABLE is not set']);
  });

  it('finishes a request in flight at SIGTERM, refuses new connections, exits 0 and printed only JSON lines', async () => {
    const dataDir = await mkdtemp(path.join(os.tmpdir(), 'meshgw-users-'));
    after(() => rm(dataDir, { recursive: true, force: true }));
    const p = start('users', { HOST: '127.0.0.1', PORT: '0', TOKEN_SECRET, SERVICE_NAME: 'users', DATA_DIR: dataDir });
    const ready = await Promise.race([p.event('listening'), p.exited.then((code) => ({ exitedEarly: code }))]);
    assert.ok(!('exitedEarly' in ready), `the service exited before listening: ${p.stderr.join('\n')}`);
    const port = Number(ready.port);
    const body = JSON.stringify({ username: 'late.comer', password: 'in-flight-pw' });
    // Expect: 100-continue makes the server acknowledge the request before the body is sent: the
    // request is provably in flight when SIGTERM arrives.
    const req = request({
      host: '127.0.0.1',
      port,
      method: 'POST',
      path: '/users',
      headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), expect: '100-continue' },
    });
    req.flushHeaders();
    await once(req, 'continue');
    const draining = p.event('draining');
    p.child.kill('SIGTERM');
    assert.equal((await draining).inFlight, 1);
    assert.ok(await connectionRefused(port), 'no new connection is accepted while draining');
    req.end(body);
    const [res] = (await once(req, 'response')) as [IncomingMessage];
    const chunks: Buffer[] = [];
    for await (const c of res) chunks.push(c as Buffer);
    assert.equal(res.statusCode, 201);
    assert.equal(res.headers.connection, 'close');
    assert.equal(JSON.parse(Buffer.concat(chunks).toString()).username, 'late.comer');
    assert.equal(await p.exited, 0);
    const lines = p.stdout.map((l) => JSON.parse(l) as Record<string, unknown>);
    assert.deepEqual(lines.map((l) => [l.service, l.method, l.path, l.status]), [['users', 'POST', '/users', 201]]);
    assert.ok(p.stderr.some((l) => l.includes('"event":"stopped"')));
  });
});
