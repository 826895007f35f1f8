/**
 * Child processes of the benchmark: spawned with piped output, awaited until they print the line
 * that says they listen, and all stopped at the end (also on error) through one registry.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';

export interface Started {
  child: ChildProcess;
  /** The JSON event (or the raw line) that said the process is ready. */
  ready: Record<string, unknown>;
  stop(): Promise<void>;
}

export interface SpawnOptions {
  command: string;
  args: string[];
  env?: NodeJS.ProcessEnv;
  /** Decides from a line of stdout or stderr whether the process is ready; returns the parsed event. */
  isReady: (line: string) => Record<string, unknown> | undefined;
  timeoutMs?: number;
  name: string;
  /** Resolve at once: the caller checks readiness itself (e.g. by connecting). */
  manualReady?: boolean;
}

const live = new Set<Started>();

function exited(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => child.once('exit', () => resolve()));
}

async function stopChild(child: ChildProcess, graceMs = 5_000): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  child.kill('SIGTERM');
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([exited(child), new Promise<void>((r) => (timer = setTimeout(r, graceMs)))]);
  clearTimeout(timer);
  if (child.exitCode === null && child.signalCode === null) {
    child.kill('SIGKILL');
    await exited(child);
  }
}

/** Starts a process and resolves once it reports ready; rejects (and kills it) on exit or timeout. */
export function startProcess(opts: SpawnOptions): Promise<Started> {
  const child = spawn(opts.command, opts.args, { env: opts.env ?? process.env, stdio: ['ignore', 'pipe', 'pipe'] });
  const tail: string[] = [];
  const started: Started = {
    child,
    ready: {},
    stop: async () => {
      await stopChild(child);
      live.delete(started);
    },
  };
  live.add(started);
  return new Promise<Started>((resolve, reject) => {
    let done = false;
    const timer = setTimeout(() => fail(new Error(`${opts.name} did not get ready in ${opts.timeoutMs ?? 15_000} ms`)), opts.timeoutMs ?? 15_000);
    const fail = (err: Error) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      void started.stop().then(() => reject(new Error(`${err.message}\n  last output: ${tail.join('\n  ')}`)));
    };
    const onLine = (line: string) => {
      if (done) return;
      tail.push(line);
      if (tail.length > 10) tail.shift();
      const event = opts.isReady(line);
      if (!event) return;
      done = true;
      clearTimeout(timer);
      started.ready = event;
      resolve(started);
    };
    if (opts.manualReady) {
      done = true;
      clearTimeout(timer);
      resolve(started);
    }
    for (const stream of [child.stdout!, child.stderr!]) {
      // Keep reading after ready too (access logs), or the child blocks on a full pipe.
      createInterface({ input: stream }).on('line', onLine);
    }
    child.once('error', (err) => fail(err));
    child.once('exit', (code, signal) => fail(new Error(`${opts.name} exited (${code ?? signal}) before it was ready`)));
  });
}

/** Parses a JSON line and returns it when `event` matches. */
export function jsonEvent(line: string, event: string): Record<string, unknown> | undefined {
  if (!line.startsWith('{')) return undefined;
  try {
    const parsed = JSON.parse(line) as Record<string, unknown>;
    return parsed.event === event ? parsed : undefined;
  } catch {
    return undefined;
  }
}

/** Stops every process still running (in reverse start order). */
export async function stopAll(): Promise<void> {
  for (const p of [...live].reverse()) await p.stop();
}
