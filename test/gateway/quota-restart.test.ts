// Persistent usage-plan quotas (issue 14, item 4) across real crashes: the gateway process itself
// (node dist/src/gateway/main.js <spec.json>, as the local supervisor runs it) SIGKILLed and
// started again on the same quota file, with a plain-HTTP upstream on 127.0.0.1 counting what
// reached it. Before the fix every restart handed out a fresh allowance.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { Pool } from 'undici';
import { API_KEYS, gatewayConfig, gatewaySpec, route, startUpstream, type FakeUpstream } from './helpers.js';

const MAIN = fileURLToPath(new URL('../../src/gateway/main.js', import.meta.url));
const LIM = API_KEYS[1];
const HIGH = { rate: 100_000, burst: 100_000 };

interface Running {
  child: ChildProcess;
  client: Pool;
}

/** Starts the gateway process on `specFile`; resolves once it announced its port. */
async function startGateway(specFile: string): Promise<Running> {
  const child = spawn(process.execPath, [MAIN, specFile], { stdio: ['ignore', 'pipe', 'pipe'] });
  const lines = createInterface({ input: child.stdout! })[Symbol.asyncIterator]();
  const first = await lines.next();
  if (first.done) {
    child.kill('SIGKILL');
    throw new Error('the gateway exited before it listened');
  }
  const event = JSON.parse(first.value as string) as { event: string; port: number };
  assert.equal(event.event, 'listening');
  // Access-log lines keep coming; drain them so the pipe never fills.
  child.stdout!.resume();
  return { child, client: new Pool(`http://127.0.0.1:${event.port}`, { connections: 4 }) };
}

async function crash(g: Running): Promise<void> {
  const exited = once(g.child, 'exit');
  g.child.kill('SIGKILL');
  await exited;
  await g.client.destroy();
}

async function get(client: Pool): Promise<{ status: number; errorType: string | undefined; body: string }> {
  const res = await client.request({ path: '/prod/products', method: 'GET', headers: { 'x-api-key': LIM.value } });
  return { status: res.statusCode, errorType: res.headers['x-amzn-errortype'] as string | undefined, body: await res.body.text() };
}

describe('quotas across gateway crashes', { timeout: 120_000 }, () => {
  let dir: string;
  let upstream: FakeUpstream;
  let running: Running | undefined;
  let quotaFile: string;
  /** Called after each request the upstream answers. */
  let onArrival: () => void = () => undefined;

  beforeEach(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'meshgw-quota-proc-'));
    upstream = await startUpstream((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
      onArrival();
    });
    quotaFile = path.join(dir, 'state', 'gateway-quotas.json');
  });
  afterEach(async () => {
    if (running && running.child.exitCode === null && running.child.signalCode === null) await crash(running);
    running = undefined;
    await upstream.close();
    await rm(dir, { recursive: true, force: true });
  });

  async function writeSpec(limit: number): Promise<string> {
    const gateway = gatewayConfig({
      throttle: HIGH,
      usagePlans: [{ name: 'limited', throttle: HIGH, quota: { limit, period: 'DAY' }, apiKeys: ['demo-limited'] }],
    });
    const specFile = path.join(dir, 'gateway.json');
    await writeFile(specFile, JSON.stringify({ ...gatewaySpec([route('products', upstream.origin)], gateway), quotaFile }), { mode: 0o600 });
    return specFile;
  }

  it('answers 429 Limit Exceeded to a key that used its quota of 3, after a SIGKILL and a restart', async () => {
    const specFile = await writeSpec(3);
    running = await startGateway(specFile);
    for (let i = 0; i < 3; i++) assert.equal((await get(running.client)).status, 200);
    await crash(running);
    running = await startGateway(specFile);
    const over = await get(running.client);
    assert.deepEqual([over.status, over.errorType, JSON.parse(over.body)], [429, 'QUOTA_EXCEEDED', { message: 'Limit Exceeded' }]);
    assert.equal(upstream.seen.length, 3);
    assert.equal((await stat(quotaFile)).mode & 0o777, 0o600);
  });

  it('never lets more than the quota through while it is SIGKILLed under load again and again', async () => {
    const limit = 40;
    const specFile = await writeSpec(limit);
    let lives = 0;
    let exhausted = false;
    while (!exhausted && lives < 30) {
      lives++;
      running = await startGateway(specFile);
      const g = running;
      const target = upstream.seen.length + 4;
      // Four clients keep requests in flight; the kill lands once the upstream has seen four more,
      // so it hits requests at every stage: counted, being written, forwarded, answered.
      let stop = false;
      let arrived!: () => void;
      const killed = new Promise<void>((resolve) => (arrived = resolve));
      onArrival = () => {
        if (upstream.seen.length >= target) arrived();
      };
      const clients = Array.from({ length: 4 }, async () => {
        while (!stop) {
          try {
            const r = await get(g.client);
            if (r.status === 429) {
              assert.equal(r.errorType, 'QUOTA_EXCEEDED');
              exhausted = stop = true;
              arrived();
            } else assert.equal(r.status, 200);
          } catch {
            stop = true; // the connection died with the process
            arrived();
          }
        }
      });
      await killed;
      stop = true;
      await crash(g);
      await Promise.all(clients);
    }
    assert.ok(exhausted, `the quota was never used up in ${lives} lives; the upstream saw ${upstream.seen.length}`);
    assert.ok(lives > 2, 'the gateway was killed under load more than once');
    assert.ok(upstream.seen.length <= limit, `the upstream saw ${upstream.seen.length} requests against a quota of ${limit} over ${lives} lives`);
  });

  it('does not start on a corrupt quota file: it names the file, says what to do, and leaves it as it was', async () => {
    const specFile = await writeSpec(3);
    await mkdir(path.dirname(quotaFile), { recursive: true });
    await writeFile(quotaFile, '{"kind":"meshgw-gateway-quotas","version":1,"coun');
    const child = spawn(process.execPath, [MAIN, specFile], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr!.on('data', (c: Buffer) => (stderr += c.toString()));
    const [code] = (await once(child, 'exit')) as [number | null];
    assert.equal(code, 1);
    assert.ok(stderr.includes(`the quota file ${quotaFile} is not valid JSON`), stderr);
    assert.match(stderr, /delete it to start every key's quota from zero/);
    assert.equal(await readFile(quotaFile, 'utf8'), '{"kind":"meshgw-gateway-quotas","version":1,"coun');
    assert.equal(upstream.seen.length, 0);
  });
});
