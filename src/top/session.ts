/**
 * `top`'s loop: scrape every target, wait, scrape again, and turn each pair of rounds into a
 * snapshot of edges (marked with the alerts that fire). The clock, the sleep and the scrape source
 * are passed in, so tests drive it without waiting.
 */
import { MeshgwError } from '../errors.js';
import type { Scrape } from '../metrics/contract.js';
import { markEdges, type AlertEvaluator } from './alerts.js';
import { buildEdges, windowSecondsOf } from './edges.js';
import type { ScrapeRound, ScrapeSource, TopSnapshot } from './types.js';

/** How much scrape history the alert rules see: rate windows of Istio's sample alerts are a few minutes. */
export const DEFAULT_ALERT_HISTORY_MS = 10 * 60_000;

export interface TopDeps {
  source: ScrapeSource;
  /** Firing alerts over the scrapes kept so far; none when not given. */
  alerts?: AlertEvaluator;
  /** Resolves after `ms`, or early when `signal` aborts (never rejects). */
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
  now?: () => number;
}

export interface TopRunOptions {
  intervalMs: number;
  alertHistoryMs?: number;
  signal?: AbortSignal;
  /** Called once the first round answered (before the first wait). */
  onStarted?: () => void;
}

/** A sleep that ends early, without an error, when the signal aborts (Ctrl-C ends `top` cleanly). */
export function abortableSleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const done = () => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal?.addEventListener('abort', done, { once: true });
  });
}

async function firstRound(source: ScrapeSource, signal?: AbortSignal): Promise<ScrapeRound> {
  const round = await source.scrapeAll(signal);
  if (round.scrapes.length === 0 && round.down.length > 0) {
    throw new MeshgwError(
      'CHECK_FAILED',
      `no metrics endpoint answered: ${round.down.map((d) => `${d.pod} (${d.reason})`).join(', ')}`,
      source.target === 'local' ? 'Check `meshgw status`; restart the stack with `meshgw down` and `meshgw up` if its processes are unhealthy.' : 'Check the pods with `kubectl get pods -n <namespace>` and that their istio-proxy containers are ready.',
    );
  }
  return round;
}

/** The snapshot of the window between two rounds. */
export function snapshotOf(target: TopSnapshot['target'], before: ScrapeRound, after: ScrapeRound, history: Scrape[], deps: Pick<TopDeps, 'alerts' | 'now'>): TopSnapshot {
  const atMs = after.scrapes.reduce((m, s) => Math.max(m, s.at), 0) || (deps.now ?? Date.now)();
  const edges = buildEdges(before.scrapes, after.scrapes);
  return {
    target,
    at: new Date(atMs).toISOString(),
    windowSeconds: Math.round(windowSecondsOf(before.scrapes, after.scrapes) * 1000) / 1000,
    edges: deps.alerts ? markEdges(edges, deps.alerts(history, atMs)) : edges,
    targetsDown: after.down,
  };
}

/** One window of `intervalMs`: what `--output json` prints. */
export async function measureTop(deps: TopDeps, opts: TopRunOptions): Promise<TopSnapshot> {
  const before = await firstRound(deps.source, opts.signal);
  await deps.sleep(opts.intervalMs, opts.signal);
  if (opts.signal?.aborted) throw new MeshgwError('ABORTED', 'interrupted before the second scrape: no window to show');
  const after = await deps.source.scrapeAll(opts.signal);
  return snapshotOf(deps.source.target, before, after, [...before.scrapes, ...after.scrapes], deps);
}

/** A snapshot every `intervalMs` until the signal aborts; resolves (no error) on abort. */
export async function watchTop(deps: TopDeps, opts: TopRunOptions, onSnapshot: (s: TopSnapshot) => void): Promise<void> {
  const historyMs = opts.alertHistoryMs ?? DEFAULT_ALERT_HISTORY_MS;
  let previous = await firstRound(deps.source, opts.signal);
  opts.onStarted?.();
  let history: Scrape[] = [...previous.scrapes];
  for (;;) {
    await deps.sleep(opts.intervalMs, opts.signal);
    if (opts.signal?.aborted) return;
    const next = await deps.source.scrapeAll(opts.signal);
    if (opts.signal?.aborted) return;
    const latest = next.scrapes.reduce((m, s) => Math.max(m, s.at), 0);
    history = [...history, ...next.scrapes].filter((s) => s.at >= latest - historyMs);
    onSnapshot(snapshotOf(deps.source.target, previous, next, history, deps));
    previous = next;
  }
}
