/**
 * The steady order load of verify resilience: POST /orders through the gateway, each with its
 * own Idempotency-Key (so a retried order is never placed twice), open loop, bounded.
 */
import { randomBytes } from 'node:crypto';
import { runOpenLoop } from '../../loadgen/open-loop.js';
import { percentile, perSecond, type SecondBucket } from '../../loadgen/summary.js';

export interface OrderLoadInput {
  baseUrl: string;
  apiKey: string;
  token: string;
  productId: string;
  rate: number;
  seconds: number;
  /** Per request: an answer later than this counts as a hung request. */
  timeoutMs: number;
  /** Called once, `atMs` after the load starts (the fault to inject while it runs). */
  during?: { atMs: number; action: () => Promise<void> };
}

export interface OrderLoadOutcome {
  offered: number;
  created201: number;
  /** Every answer that was not 201, by status (0: no answer: error or timeout). */
  failures: Record<string, number>;
  failed: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
  perSecond: SecondBucket[];
  /** Errors of requests that got no answer, a few. */
  errors: string[];
}

export async function runOrderLoad(input: OrderLoadInput): Promise<OrderLoadOutcome> {
  const run = randomBytes(6).toString('hex');
  const body = JSON.stringify({ productId: input.productId, quantity: 1 });
  const count = Math.round(input.rate * input.seconds);
  let action: Promise<void> | undefined;
  let actionError: unknown;
  let timer: NodeJS.Timeout | undefined;
  if (input.during) {
    const { atMs, action: act } = input.during;
    // Caught at once (a rejection nobody awaits yet would end the process) and rethrown after the load.
    timer = setTimeout(() => void (action = act().catch((err: unknown) => void (actionError = err ?? new Error('the fault action failed')))), atMs);
  }
  try {
    const result = await runOpenLoop({
      baseUrl: input.baseUrl,
      rate: input.rate,
      count,
      maxInFlight: Math.max(128, Math.ceil(2 * input.rate)),
      maxDurationMs: input.seconds * 1000 + input.timeoutMs + 5_000,
      timeoutMs: input.timeoutMs,
      warmup: { path: '/__meshgw_warmup', connections: 16 },
      request: (i) => ({
        method: 'POST',
        path: '/orders',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${input.token}`, 'x-api-key': input.apiKey, 'idempotency-key': `resilience-${run}-${i}` },
        body,
      }),
    });
    const failures: Record<string, number> = {};
    const errors = new Set<string>();
    for (const s of result.samples) {
      if (s.status === 201) continue;
      failures[String(s.status)] = (failures[String(s.status)] ?? 0) + 1;
      if (s.error && errors.size < 5) errors.add(s.error);
    }
    const latencies = result.samples.filter((s) => s.sentMs >= 0).map((s) => s.latencyMs);
    const round = (ms: number) => Math.round(ms * 10) / 10;
    const created201 = result.samples.filter((s) => s.status === 201).length;
    await action;
    if (actionError) throw actionError;
    return {
      offered: result.samples.length,
      created201,
      failures,
      failed: result.samples.length - created201,
      p50Ms: round(percentile(latencies, 50)),
      p99Ms: round(percentile(latencies, 99)),
      maxMs: round(Math.max(0, ...latencies)),
      perSecond: perSecond(result.samples),
      errors: [...errors],
    };
  } finally {
    clearTimeout(timer);
    await action;
  }
}

/** "201 ×598" or "201 ×590, 503 ×8". */
export function describeAnswers(o: OrderLoadOutcome): string {
  return [`201 ×${o.created201}`, ...Object.entries(o.failures).map(([status, n]) => `${status === '0' ? 'no answer' : status} ×${n}`)].join(', ');
}

/** The answers second by second, "90 90 88+2✗ 90…": 2xx, then +n✗ for anything else (429 included). */
export function describePerSecond(o: OrderLoadOutcome): string {
  return o.perSecond.map((b) => `${b.ok}${b.throttled + b.other > 0 ? `+${b.throttled + b.other}✗` : ''}`).join(' ');
}
