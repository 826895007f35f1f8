/** One HTTP scrape of a Prometheus text endpoint, parsed; failures come back as a reason, not thrown. */
import { PROMETHEUS_PATH, type Scrape } from '../metrics/contract.js';
import { parsePrometheusText } from '../metrics/prom-text.js';
import type { TargetDown } from './types.js';

/** A scrape longer than this is a target down: `top` redraws every couple of seconds. */
export const DEFAULT_SCRAPE_TIMEOUT_MS = 2_000;

export type FetchText = (url: string, signal: AbortSignal) => Promise<{ status: number; text: string }>;

export const fetchText: FetchText = async (url, signal) => {
  const res = await fetch(url, { signal, headers: { accept: 'text/plain;version=0.0.4' } });
  return { status: res.status, text: await res.text() };
};

export function describeFailure(err: unknown): string {
  const e = err as Error & { cause?: { code?: string; message?: string } };
  if (e?.name === 'TimeoutError') return 'no answer in time';
  return e?.cause?.code ?? e?.cause?.message ?? e?.message ?? String(err);
}

/** Scrapes `target` (its url is the full metrics URL); `at` is when the answer arrived. */
export async function scrapeHttp(target: Scrape['target'], opts: { fetch?: FetchText; timeoutMs?: number; now?: () => number; signal?: AbortSignal } = {}): Promise<Scrape | TargetDown> {
  const timeout = AbortSignal.timeout(opts.timeoutMs ?? DEFAULT_SCRAPE_TIMEOUT_MS);
  const signal = opts.signal ? AbortSignal.any([opts.signal, timeout]) : timeout;
  const down = (reason: string): TargetDown => ({ pod: target.pod, url: target.url, reason });
  try {
    const res = await (opts.fetch ?? fetchText)(target.url, signal);
    if (res.status !== 200) return down(`HTTP ${res.status}${res.status === 404 ? ` (no ${PROMETHEUS_PATH} here)` : ''}`);
    const at = (opts.now ?? Date.now)();
    try {
      return { at, target, samples: parsePrometheusText(res.text) };
    } catch (err) {
      return down(`not Prometheus text: ${(err as Error).message}`);
    }
  } catch (err) {
    return down(describeFailure(err));
  }
}

export function isScrape(x: Scrape | TargetDown): x is Scrape {
  return 'samples' in x;
}
