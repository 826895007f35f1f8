import type { LoadSample } from './open-loop.js';

export interface LoadSummary {
  offered: number;
  ok2xx: number;
  throttled429: number;
  other: number;
  p50Ms: number;
  p99Ms: number;
}

export interface SecondBucket {
  second: number;
  ok: number;
  throttled: number;
  other: number;
}

/** Nearest-rank percentile of a list (0 for an empty one). */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return 0;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.min(sorted.length, Math.max(1, Math.ceil((p / 100) * sorted.length)));
  return sorted[rank - 1];
}

export function summarize(samples: readonly LoadSample[]): LoadSummary {
  let ok2xx = 0;
  let throttled429 = 0;
  const latencies: number[] = [];
  for (const s of samples) {
    if (s.status >= 200 && s.status < 300) ok2xx++;
    else if (s.status === 429) throttled429++;
    if (s.sentMs >= 0) latencies.push(s.latencyMs);
  }
  const round = (ms: number) => Math.round(ms * 10) / 10;
  return {
    offered: samples.length,
    ok2xx,
    throttled429,
    other: samples.length - ok2xx - throttled429,
    p50Ms: round(percentile(latencies, 50)),
    p99Ms: round(percentile(latencies, 99)),
  };
}

/** 2xx, 429 and anything else per whole second of send time, with empty seconds filled in. */
export function perSecond(samples: readonly LoadSample[]): SecondBucket[] {
  const buckets: SecondBucket[] = [];
  for (const s of samples) {
    if (s.sentMs < 0) continue;
    while (buckets.length <= s.second) buckets.push({ second: buckets.length, ok: 0, throttled: 0, other: 0 });
    const b = buckets[s.second];
    if (s.status >= 200 && s.status < 300) b.ok++;
    else if (s.status === 429) b.throttled++;
    else b.other++;
  }
  return buckets;
}
