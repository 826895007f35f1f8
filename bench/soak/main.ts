/**
 * `npm run soak -- [--minutes 10] [--rate 20] [--kill-every 20] [--seed N] [--out FILE] [--keep]`
 *
 * Orders at a steady rate through the real local stack (a temporary copy of meshgw.yaml, gateway on
 * a free port, every throttle and quota raised so none binds) while a chaos loop SIGKILLs a random
 * process of the stack, the supervisor included, every --kill-every seconds. Then checks that no
 * order answered 201 is lost or duplicated, that no process is orphaned and that `down` leaves
 * nothing. Prints the figures, writes them as JSON, exits 0 only if every check holds. Not part of
 * npm test: it runs for minutes.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { loadConfig, type LoadedConfig } from '../../src/config/load.js';
import type { ApiKeyRecord } from '../../src/gateway/spec.js';
import { startLocalStack, stopLocalStack } from '../../src/local/stack.js';
import { readRunState } from '../../src/local/state.js';
import { scratchConfig } from '../order-flow.js';
import { runChaos, seededRandom, type Kill } from './chaos.js';
import { checkOrders, findOrphans, leftAfterDown, type OrderCheck, type ScannedProcess } from './checks.js';
import { OrderClient, type OrderRecord } from './order-client.js';
import { byProcess, countCauses, orderCounts, recoveries, renderReport, type SoakReport } from './report.js';

const USAGE = 'usage: npm run soak -- [--minutes 10] [--rate 20] [--kill-every 20] [--seed N] [--out FILE] [--keep]';

interface SoakOptions {
  minutes: number;
  rate: number;
  killEverySeconds: number;
  seed: number;
  out: string | undefined;
  keep: boolean;
}

function positive(name: string, text: string | undefined, fallback: number): number {
  if (text === undefined) return fallback;
  const n = Number(text);
  if (!Number.isFinite(n) || n <= 0) throw new Error(`--${name} ${text}: expected a number greater than 0\n${USAGE}`);
  return n;
}

function parseOptions(argv: string[]): SoakOptions {
  const { values } = parseArgs({
    args: argv,
    options: { minutes: { type: 'string' }, rate: { type: 'string' }, 'kill-every': { type: 'string' }, seed: { type: 'string' }, out: { type: 'string' }, keep: { type: 'boolean' } },
    strict: true,
  });
  return {
    minutes: positive('minutes', values.minutes, 10),
    rate: positive('rate', values.rate, 20),
    killEverySeconds: positive('kill-every', values['kill-every'], 20),
    seed: values.seed === undefined ? Date.now() % 1_000_000 : Math.floor(positive('seed', values.seed, 1)),
    out: values.out,
    keep: values.keep ?? false,
  };
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** Starts the stack (again): waits out a supervisor that is still being reaped; a refusal (orphans) is reported, cleaned with `down`, and started once more. */
async function startStack(loaded: LoadedConfig, killedSupervisor?: number): Promise<{ url: string; apiKeys: ApiKeyRecord[]; problem?: string }> {
  const deadline = Date.now() + 30_000;
  let problem: string | undefined;
  for (;;) {
    try {
      const r = await startLocalStack(loaded, { port: 0 });
      if (r.type === 'started' || r.run.supervisorPid !== killedSupervisor) return { url: r.run.gatewayUrl, apiKeys: r.apiKeys, problem };
    } catch (err) {
      if (problem || Date.now() > deadline) throw err;
      problem = (err as Error).message.split('\n')[0];
      await stopLocalStack(loaded.stateDir);
      continue;
    }
    if (Date.now() > deadline) throw new Error(`the killed supervisor ${killedSupervisor} still counts as running after 30 s`);
    await sleep(100);
  }
}

async function currentPids(stateDir: string): Promise<number[]> {
  const run = await readRunState(stateDir);
  if (!run) return [];
  return [run.supervisorPid, ...run.workloads.flatMap((w) => w.processes).flatMap((p) => (p.pid ? [p.pid] : []))];
}

async function soak(opts: SoakOptions, dir: string): Promise<SoakReport> {
  const stateDir = path.join(dir, 'state');
  const loaded = await loadConfig(await scratchConfig(dir, stateDir));
  const first = await startStack(loaded);
  let baseUrl = first.url;
  const keys = first.apiKeys;
  const apiKey = (keys.find((k) => k.plan === 'standard') ?? keys[0]).value;
  const client = new OrderClient({ baseUrl: () => baseUrl, apiKey, username: `soak-${opts.seed}`, password: 'soak-password-1' });
  const records: OrderRecord[] = [];
  const orderCheck: OrderCheck = { created: 0, lost: [], duplicated: [], shared: [] };
  let orphans: ScannedProcess[] = [];
  let fatal: string | undefined;
  let kills: Kill[] = [];
  const startMs = performance.now();
  const stop = new AbortController();
  const interrupt = () => stop.abort();
  process.once('SIGINT', interrupt);
  try {
    await client.setUp();
    const random = seededRandom(opts.seed);
    const chaos = runChaos({
      stateDir,
      intervalMs: opts.killEverySeconds * 1000,
      random,
      signal: stop.signal,
      restartStack: async (killed) => {
        const r = await startStack(loaded, killed);
        baseUrl = r.url;
        return { problem: r.problem };
      },
    }).catch((err: Error) => {
      fatal = `the stack could not be started again: ${err.message}`;
      stop.abort();
      return [] as Kill[];
    });
    // Open loop: order i is due at start + i / rate, whatever the answers before it took.
    const intervalMs = 1000 / opts.rate;
    const endMs = startMs + opts.minutes * 60_000;
    const placing: Promise<void>[] = [];
    for (let i = 0; !stop.signal.aborted; i++) {
      const due = startMs + i * intervalMs;
      if (due >= endMs) break;
      const wait = due - performance.now();
      if (wait > 0) await sleep(wait);
      placing.push(client.placeOrder(`soak-${opts.seed}-${i}`, 'p-100', 1 + (i % 3)).then((r) => void records.push(r)));
    }
    stop.abort();
    kills = await chaos;
    await Promise.all(placing);
    Object.assign(orderCheck, await checkOrders(client, records));
    orphans = await findOrphans(stateDir, () => currentPids(stateDir), 10_000);
  } catch (err) {
    fatal = (err as Error).stack ?? String(err);
  } finally {
    process.removeListener('SIGINT', interrupt);
    await client.close();
    await stopLocalStack(stateDir).catch((err: Error) => (fatal ??= `down failed: ${err.message}`));
  }
  const left = await leftAfterDown(stateDir, 10_000);
  // The soak started these; none may outlive it, whatever the verdict.
  for (const p of left) {
    try {
      process.kill(p.pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
  const kr = recoveries(kills, client.attempts, startMs);
  const causes = countCauses(client.attempts);
  const pass = !fatal && orderCheck.lost.length === 0 && orderCheck.duplicated.length === 0 && orderCheck.shared.length === 0 && orphans.length === 0 && left.length === 0;
  return {
    options: { minutes: opts.minutes, rate: opts.rate, killEverySeconds: opts.killEverySeconds, seed: opts.seed },
    durationS: Math.round((performance.now() - startMs) / 100) / 10,
    orders: orderCounts(records),
    requests: client.attempts.length,
    ...causes,
    kills: kr,
    recoveryByProcess: byProcess(kr),
    checks: { orders: orderCheck, orphans, leftAfterDown: left, ...(fatal ? { fatal } : {}), pass },
  };
}

async function main(): Promise<number> {
  let opts: SoakOptions;
  try {
    opts = parseOptions(process.argv.slice(2));
  } catch (err) {
    process.stderr.write(`${(err as Error).message}\n`);
    return 2;
  }
  const dir = await mkdtemp(path.join(os.tmpdir(), 'meshgw-soak-'));
  process.stdout.write(`soak: ${opts.minutes} min, state in ${dir}\n`);
  const report = await soak(opts, dir);
  const out = opts.out ?? path.join(os.tmpdir(), `meshgw-soak-${Date.now()}.json`);
  await writeFile(out, JSON.stringify(report, null, 2) + '\n');
  process.stdout.write(renderReport(report) + `\nJSON: ${out}\n`);
  if (report.checks.pass && !opts.keep) await rm(dir, { recursive: true, force: true });
  else process.stdout.write(`state and logs kept in ${dir}\n`);
  return report.checks.pass ? 0 : 1;
}

process.exitCode = await main();
