/**
 * The soak's chaos: every interval, SIGKILL one process of the local stack picked at random, the
 * supervisor included. The supervisor restarts an app, a sidecar or the gateway by itself; a killed
 * supervisor takes its children with it, and the soak then starts the stack again, as a user would
 * run `meshgw up` (timed: that is its recovery).
 */
import { readRunState } from '../../src/local/state.js';

export interface Kill {
  /** Process name ("orders-sidecar", "supervisor") and the pid that got SIGKILL. */
  name: string;
  pid: number;
  /** performance.now() at the kill. */
  atMs: number;
  /** For a supervisor: how long starting the stack again took, and what went wrong first, if anything. */
  restartMs?: number;
  restartProblem?: string;
}

export interface ChaosOptions {
  stateDir: string;
  intervalMs: number;
  /** A number in [0, 1): seeded, so a run can be repeated. */
  random: () => number;
  /** Starts the stack again after its supervisor was killed; resolves when it is ready. */
  restartStack: (killedPid: number) => Promise<{ problem?: string }>;
  /** The soak is over when this aborts. */
  signal: AbortSignal;
}

/** A small seeded PRNG (mulberry32): the same seed picks the same victims. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function waitOrAbort(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done, { once: true });
  });
}

/** The processes that can be killed now: the supervisor and every child with a pid. */
async function victims(stateDir: string): Promise<{ name: string; pid: number }[]> {
  const run = await readRunState(stateDir);
  if (!run) return [];
  const children = run.workloads.flatMap((w) => w.processes).filter((p) => p.pid !== null && p.health === 'healthy');
  return [{ name: 'supervisor', pid: run.supervisorPid }, ...children.map((p) => ({ name: p.name, pid: p.pid! }))];
}

/** Runs until the signal aborts; returns every kill made. */
export async function runChaos(opts: ChaosOptions): Promise<Kill[]> {
  const kills: Kill[] = [];
  for (;;) {
    await waitOrAbort(opts.intervalMs, opts.signal);
    if (opts.signal.aborted) return kills;
    const candidates = await victims(opts.stateDir);
    if (candidates.length === 0) continue;
    const victim = candidates[Math.floor(opts.random() * candidates.length)];
    const kill: Kill = { ...victim, atMs: performance.now() };
    try {
      process.kill(victim.pid, 'SIGKILL');
    } catch {
      continue; // it died on its own meanwhile: pick again next time
    }
    kills.push(kill);
    if (victim.name === 'supervisor') {
      const started = performance.now();
      const { problem } = await opts.restartStack(victim.pid);
      kill.restartMs = Math.round(performance.now() - started);
      if (problem) kill.restartProblem = problem;
    }
  }
}
