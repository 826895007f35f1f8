/**
 * An open loop at a fixed rate over a fixed number of keep-alive connections, as Fortio runs
 * Istio's latency benchmark (`-qps 1000 -c 16`): request i is due at start + i / rps whatever
 * happened before, and its latency counts from that due time, so waiting for a free connection
 * is part of it (no coordinated omission). Unmeasured warm-up first, at the same rate.
 */
import { Pool } from 'undici';
import { summarize, type LatencySummary } from './stats.js';

export interface FixedRateOptions {
  origin: string;
  /** Connect over this Unix socket instead of the origin's host and port. */
  socketPath?: string;
  path: string;
  method: 'GET' | 'POST';
  headers?: Record<string, string>;
  body?: string | Buffer;
  rps: number;
  connections: number;
  durationMs: number;
  warmupMs: number;
}

export interface FixedRateResult extends LatencySummary {
  offeredRps: number;
  connections: number;
  durationMs: number;
  /** The largest number of requests waiting for a connection at once. */
  maxQueued: number;
  statuses: Record<string, number>;
  firstError?: string;
}

export async function runFixedRate(opts: FixedRateOptions): Promise<FixedRateResult> {
  const pool = new Pool(opts.origin, { connections: opts.connections, pipelining: 1, keepAliveTimeout: 60_000, ...(opts.socketPath ? { socketPath: opts.socketPath } : {}) });
  const intervalMs = 1000 / opts.rps;
  try {
    await phase(pool, opts, intervalMs, opts.warmupMs);
    return await phase(pool, opts, intervalMs, opts.durationMs);
  } finally {
    await pool.close().catch(() => pool.destroy());
  }
}

async function phase(pool: Pool, opts: FixedRateOptions, intervalMs: number, durationMs: number): Promise<FixedRateResult> {
  const latencies: number[] = [];
  const statuses: Record<string, number> = {};
  const pending: Promise<void>[] = [];
  let errors = 0;
  let firstError: string | undefined;
  let inFlight = 0;
  let maxQueued = 0;
  const total = Math.floor(durationMs / intervalMs);
  const start = performance.now();

  const fire = async (due: number): Promise<void> => {
    inFlight++;
    maxQueued = Math.max(maxQueued, inFlight - opts.connections);
    try {
      const res = await pool.request({ path: opts.path, method: opts.method, headers: opts.headers, body: opts.body, headersTimeout: 10_000, bodyTimeout: 10_000 });
      await res.body.dump();
      statuses[res.statusCode] = (statuses[res.statusCode] ?? 0) + 1;
      if (res.statusCode >= 200 && res.statusCode < 400) latencies.push(performance.now() - due);
      else errors++;
    } catch (err) {
      errors++;
      firstError ??= (err as { code?: string; message?: string }).code ?? (err as Error).message;
    } finally {
      inFlight--;
    }
  };

  await new Promise<void>((resolve) => {
    let next = 0;
    const tick = (): void => {
      const now = performance.now();
      while (next < total && start + next * intervalMs <= now) pending.push(fire(start + next++ * intervalMs));
      if (next >= total) return resolve();
      setTimeout(tick, Math.max(0, start + next * intervalMs - performance.now()));
    };
    tick();
  });
  await Promise.all(pending);
  const elapsed = performance.now() - start;
  return { ...summarize(latencies, errors, elapsed), offeredRps: opts.rps, connections: opts.connections, durationMs: Math.round(elapsed), maxQueued: Math.max(0, maxQueued), statuses, firstError };
}
