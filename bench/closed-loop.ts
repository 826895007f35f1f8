/**
 * A closed-loop HTTP client: `concurrency` workers each send a request, wait for the whole answer,
 * and send the next, until `count` requests or `durationMs` have gone by. Keep-alive through one
 * undici Pool, or a fresh connection per request (to measure connection set-up, e.g. handshakes).
 */
import { Client, Pool, type Dispatcher } from 'undici';
import type { ConnectionOptions } from 'node:tls';
import { summarize, type LatencySummary } from './stats.js';

export interface ClosedLoopOptions {
  origin: string;
  /** Connect over this Unix socket instead of the origin's host and port. */
  socketPath?: string;
  path: string;
  method?: 'GET' | 'POST';
  headers?: Record<string, string>;
  body?: string;
  concurrency: number;
  /** Stop after this many measured requests ... */
  count: number;
  /** ... or after this long, whichever comes first. */
  durationMs: number;
  /** Unmeasured requests first (JIT, connections, caches). */
  warmupCount: number;
  /** A new connection per request instead of keep-alive. */
  newConnectionPerRequest?: boolean;
  /** TLS options when the origin is https:// (client certificate, CA, identity check). */
  tls?: ConnectionOptions & { maxCachedSessions?: number };
}

export interface ClosedLoopResult extends LatencySummary {
  concurrency: number;
  durationMs: number;
  statuses: Record<string, number>;
  firstError?: string;
}

function isOk(status: number): boolean {
  return status >= 200 && status < 400;
}

export async function runClosedLoop(opts: ClosedLoopOptions): Promise<ClosedLoopResult> {
  const pool = opts.newConnectionPerRequest ? undefined : new Pool(opts.origin, { connections: opts.concurrency, pipelining: 1, keepAliveTimeout: 30_000, connect: opts.tls, ...(opts.socketPath ? { socketPath: opts.socketPath } : {}) });
  const latencies: number[] = [];
  const statuses: Record<string, number> = {};
  let errors = 0;
  let firstError: string | undefined;

  const once = async (): Promise<number> => {
    let dispatcher: Dispatcher;
    let client: Client | undefined;
    if (pool) dispatcher = pool;
    else {
      client = new Client(opts.origin, { pipelining: 1, connect: opts.tls });
      dispatcher = client;
    }
    try {
      const res = await dispatcher.request({
        path: opts.path,
        method: opts.method ?? 'GET',
        headers: opts.newConnectionPerRequest ? { ...opts.headers, connection: 'close' } : opts.headers,
        body: opts.body,
        headersTimeout: 10_000,
        bodyTimeout: 10_000,
      });
      await res.body.dump();
      return res.statusCode;
    } finally {
      if (client) await client.close().catch(() => client.destroy());
    }
  };

  try {
    // Warm-up: unmeasured, at the same concurrency (opens the pool's connections).
    let warm = opts.warmupCount;
    await Promise.all(
      Array.from({ length: opts.concurrency }, async () => {
        while (warm-- > 0) await once().catch(() => undefined);
      }),
    );
    let remaining = opts.count;
    const start = performance.now();
    const deadline = start + opts.durationMs;
    await Promise.all(
      Array.from({ length: opts.concurrency }, async () => {
        while (remaining > 0 && performance.now() < deadline) {
          remaining--;
          const t0 = performance.now();
          try {
            const status = await once();
            statuses[status] = (statuses[status] ?? 0) + 1;
            if (isOk(status)) latencies.push(performance.now() - t0);
            else errors++;
          } catch (err) {
            errors++;
            firstError ??= (err as { code?: string; message?: string }).code ?? (err as Error).message;
          }
        }
      }),
    );
    const durationMs = performance.now() - start;
    return { ...summarize(latencies, errors, durationMs), concurrency: opts.concurrency, durationMs: Math.round(durationMs), statuses, firstError };
  } finally {
    await pool?.close().catch(() => pool.destroy());
  }
}
