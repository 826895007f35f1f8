/**
 * Child processes of the benchmark: spawned with piped output, awaited until they print the line
 * that says they listen, and all stopped at the end (also on error) through one registry.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, openSync, readFileSync } from 'node:fs';
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
  /**
   * Send stdout and stderr to this file, as the local supervisor does, instead of pipes the bench
   * reads: a process that logs every request (the gateway's access log) then pays one write(2) to
   * a file per line, not a pipe write that blocks while the busy bench client has not read the
   * previous lines, and the client does not spend its CPU splitting those lines.
   */
  logFile?: string;
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
  // Truncated: readiness is read from this file, so an earlier process's "listening" line must not be in it.
  const fd = opts.logFile ? openSync(opts.logFile, 'w', 0o600) : undefined;
  const child = spawn(opts.command, opts.args, { env: opts.env ?? process.env, stdio: fd === undefined ? ['ignore', 'pipe', 'pipe'] : ['ignore', fd, fd] });
  if (fd !== undefined) closeSync(fd);
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
    if (opts.logFile) watchLogFile(opts.logFile, onLine, () => done);
    else {
      for (const stream of [child.stdout!, child.stderr!]) {
        // Keep reading after ready too (access logs), or the child blocks on a full pipe.
        createInterface({ input: stream }).on('line', onLine);
      }
    }
    child.once('error', (err) => fail(err));
    child.once('exit', (code, signal) => fail(new Error(`${opts.name} exited (${code ?? signal}) before it was ready`)));
  });
}

/** Hands each new complete line of a log file to onLine, every 10 ms, until stop() says so. */
function watchLogFile(file: string, onLine: (line: string) => void, stop: () => boolean): void {
  let seen = 0;
  const poll = () => {
    if (stop()) return;
    let text = '';
    try {
      text = readFileSync(file, 'utf8');
    } catch {
      // not there yet
    }
    const end = text.lastIndexOf('\n') + 1;
    if (end > seen) {
      for (const line of text.slice(seen, end).split('\n')) if (line) onLine(line);
      seen = end;
    }
    if (!stop()) setTimeout(poll, 10);
  };
  poll();
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
