import { Pool } from 'undici';

/** What request i is: the loadgen asks for each one as it is due. */
export interface LoadRequest {
  method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  /** Appended to the base URL's path (which may hold a stage, e.g. /prod). */
  path: string;
  headers?: Record<string, string>;
  body?: string;
}

export interface LoadOptions {
  /** e.g. http://127.0.0.1:8080/prod */
  baseUrl: string;
  /** Requests per second; Infinity sends all of them at once. */
  rate: number;
  count: number;
  request(index: number): LoadRequest;
  /** Stop scheduling after this long even if not all requests went out. */
  maxDurationMs?: number;
  /** Requests allowed in flight at once; a request due while the bound is reached is not sent and is recorded as such. */
  maxInFlight?: number;
  /** Per request, for headers and body alike. */
  timeoutMs?: number;
  /** Opens this many keep-alive connections before the clock starts, with GETs to `warmupPath`. */
  warmup?: { path: string; connections: number };
  /** A response header (lower case) to keep on each sample, e.g. x-amzn-requestid to find the request in an access log. */
  captureHeader?: string;
}

export interface LoadSample {
  index: number;
  /** Milliseconds after the start at which the request was due. */
  scheduledMs: number;
  /** Milliseconds after the start at which it was handed to the connection pool (-1: never sent). */
  sentMs: number;
  /** 0 when no HTTP answer came (error, timeout, not sent). */
  status: number;
  latencyMs: number;
  /** The whole second after the start in which it was sent. */
  second: number;
  error?: string;
  /** The value of LoadOptions.captureHeader in the answer, when asked for and present. */
  captured?: string;
}

export interface LoadResult {
  samples: LoadSample[];
  /** performance.now() at the start, so samples from several runs can share one time line. */
  startMs: number;
  durationMs: number;
  /** Requests not sent because maxInFlight were already waiting. */
  skippedForInFlightBound: number;
  maxInFlightSeen: number;
}

export interface LoadDeps {
  now?: () => number;
}

const DEFAULT_TIMEOUT_MS = 10_000;

/** Joins a base URL and a request path into the origin and the path a pool wants. */
function splitBase(baseUrl: string): { origin: string; basePath: string } {
  const url = new URL(baseUrl);
  return { origin: url.origin, basePath: url.pathname.replace(/\/$/, '') };
}

/**
 * An open-loop load: request i is due at start + i / rate whatever happened to the earlier ones,
 * so a slow or throttling server cannot slow the offered load down (the "coordinated omission"
 * a closed loop suffers). Bounded by count, maxDurationMs and maxInFlight. Prints nothing.
 */
export async function runOpenLoop(opts: LoadOptions, deps: LoadDeps = {}): Promise<LoadResult> {
  const now = deps.now ?? (() => performance.now());
  const maxInFlight = opts.maxInFlight ?? Math.max(64, Math.ceil(Number.isFinite(opts.rate) ? opts.rate : opts.count));
  const timeoutMs = opts.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const maxDurationMs = opts.maxDurationMs ?? Infinity;
  const intervalMs = Number.isFinite(opts.rate) ? 1000 / opts.rate : 0;
  const { origin, basePath } = splitBase(opts.baseUrl);
  const pool = new Pool(origin, { connections: maxInFlight, pipelining: 1, keepAliveTimeout: 30_000 });
  try {
    if (opts.warmup) {
      const n = Math.min(opts.warmup.connections, maxInFlight);
      await Promise.all(Array.from({ length: n }, () => pool.request({ path: basePath + opts.warmup!.path, method: 'GET' }).then((r) => r.body.dump(), () => undefined)));
    }
    const samples: LoadSample[] = [];
    const pending: Promise<void>[] = [];
    let inFlight = 0;
    let maxInFlightSeen = 0;
    let skipped = 0;
    const startMs = now();

    const fire = async (index: number): Promise<void> => {
      const req = opts.request(index);
      const sample: LoadSample = { index, scheduledMs: index * intervalMs, sentMs: -1, status: 0, latencyMs: 0, second: 0 };
      samples.push(sample);
      if (inFlight >= maxInFlight) {
        skipped++;
        sample.error = 'in-flight bound reached';
        return;
      }
      inFlight++;
      maxInFlightSeen = Math.max(maxInFlightSeen, inFlight);
      const sent = now();
      sample.sentMs = sent - startMs;
      sample.second = Math.floor(sample.sentMs / 1000);
      try {
        const res = await pool.request({ path: basePath + req.path, method: req.method, headers: req.headers, body: req.body, headersTimeout: timeoutMs, bodyTimeout: timeoutMs });
        await res.body.dump();
        sample.status = res.statusCode;
        if (opts.captureHeader) {
          const v = res.headers[opts.captureHeader];
          if (typeof v === 'string') sample.captured = v;
        }
      } catch (err) {
        const e = err as { code?: string; message?: string };
        sample.error = e.code ?? e.message ?? String(err);
      } finally {
        sample.latencyMs = now() - sent;
        inFlight--;
      }
    };

    await new Promise<void>((resolve) => {
      let next = 0;
      const tick = (): void => {
        const elapsed = now() - startMs;
        while (next < opts.count && next * intervalMs <= elapsed && elapsed <= maxDurationMs) pending.push(fire(next++));
        if (next >= opts.count || elapsed > maxDurationMs) return resolve();
        setTimeout(tick, Math.max(0, next * intervalMs - (now() - startMs)));
      };
      tick();
    });
    await Promise.all(pending);
    samples.sort((a, b) => a.index - b.index);
    return { samples, startMs, durationMs: now() - startMs, skippedForInFlightBound: skipped, maxInFlightSeen };
  } finally {
    await pool.close().catch(() => pool.destroy());
  }
}
