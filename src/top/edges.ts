/**
 * The edge model behind `meshgw top`, after linkerd viz edges/stat over Istio's standard metrics:
 * traffic (rps, success, latency, 429s, 5xx) from the caller's own report (reporter="source"), and
 * identity from the callee's (reporter="destination"), whose proxy verified the caller's certificate
 * in the mTLS handshake: source_principal is what it saw, connection_security_policy whether mTLS carried it.
 */
import { IstioMetric, type Scrape } from '../metrics/contract.js';
import { histogramQuantile, type Bucket } from './histogram-quantile.js';
import { counterIncreases, latestSamples, type SeriesIncrease } from './increases.js';
import type { TopEdge } from './types.js';

const REQUESTS = IstioMetric.requests;
const BUCKETS = `${IstioMetric.duration}_bucket`;
const UNKNOWN = 'unknown';

interface EdgeAccumulator {
  source: string;
  destination: string;
  requests: number;
  rps: number;
  throttled429: number;
  errors5xx: number;
  buckets: Map<number, number>;
  /** The callee's reports: all series (for an idle edge), and those with requests in the window. */
  calleeSeries: Record<string, string>[];
  calleeActive: Record<string, string>[];
  callerPrincipals: Set<string>;
}

function known(v: string | undefined): v is string {
  return v !== undefined && v !== '' && v !== UNKNOWN;
}

/** The callee's name: its workload, else (e.g. a request refused before a replica was picked) its service. */
function destinationOf(labels: Record<string, string>): string {
  for (const k of ['destination_workload', 'destination_service_name', 'destination_canonical_service', 'destination_app']) if (known(labels[k])) return labels[k];
  return UNKNOWN;
}

function sourceOf(labels: Record<string, string>): string {
  for (const k of ['source_workload', 'source_canonical_service', 'source_app']) if (known(labels[k])) return labels[k];
  return UNKNOWN;
}

/** Seconds between the two rounds, averaged over the targets scraped in both. */
export function windowSecondsOf(before: Scrape[], after: Scrape[]): number {
  const prev = new Map(before.map((s) => [`${s.target.pod}\u0000${s.target.url}`, s.at]));
  const spans = after.flatMap((s) => {
    const at = prev.get(`${s.target.pod}\u0000${s.target.url}`);
    return at !== undefined && s.at > at ? [(s.at - at) / 1000] : [];
  });
  return spans.length ? spans.reduce((a, b) => a + b, 0) / spans.length : 0;
}

const round = (v: number, digits: number) => Math.round(v * 10 ** digits) / 10 ** digits;

function quantile(q: number, buckets: Map<number, number>): number | null {
  const v = histogramQuantile(q, [...buckets].map(([upperBound, count]) => ({ upperBound, count }) satisfies Bucket));
  return Number.isFinite(v) ? round(v, 2) : null;
}

function addTraffic(e: EdgeAccumulator, inc: SeriesIncrease): void {
  if (inc.name === REQUESTS) {
    e.requests += inc.increase;
    e.rps += inc.increase / inc.windowSeconds;
    const code = inc.labels.response_code ?? '';
    if (code === '429') e.throttled429 += inc.increase;
    if (code.startsWith('5')) e.errors5xx += inc.increase;
    if (known(inc.labels.destination_principal)) e.callerPrincipals.add(inc.labels.destination_principal);
    return;
  }
  const le = Number(inc.labels.le === '+Inf' ? Infinity : inc.labels.le);
  if (!Number.isNaN(le)) e.buckets.set(le, (e.buckets.get(le) ?? 0) + inc.increase);
}

/** The one value the callee's series agree on, else null (two different principals are not one identity). */
function single(series: Record<string, string>[], label: string): string | null {
  const values = new Set(series.map((l) => l[label]).filter(known));
  return values.size === 1 ? [...values][0] : null;
}

function finish(e: EdgeAccumulator): TopEdge {
  const callee = e.calleeActive.length ? e.calleeActive : e.calleeSeries;
  const policies = callee.map((l) => l.connection_security_policy);
  return {
    source: e.source,
    destination: e.destination,
    sourcePrincipal: single(callee, 'source_principal'),
    destinationPrincipal: single(callee, 'destination_principal') ?? (e.callerPrincipals.size === 1 ? [...e.callerPrincipals][0] : null),
    mtls: policies.length === 0 ? null : policies.every((p) => p === 'mutual_tls'),
    rps: round(e.rps, 3),
    successRate: e.requests > 0 ? round((e.requests - e.errors5xx) / e.requests, 4) : null,
    p50Ms: quantile(0.5, e.buckets),
    p95Ms: quantile(0.95, e.buckets),
    p99Ms: quantile(0.99, e.buckets),
    requests: e.requests,
    throttled429: e.throttled429,
    errors5xx: e.errors5xx,
    alerts: [],
  };
}

/** Every edge a caller reported (idle ones included, at 0 rps), from two rounds of scrapes. */
export function buildEdges(before: Scrape[], after: Scrape[]): TopEdge[] {
  const edges = new Map<string, EdgeAccumulator>();
  const edge = (labels: Record<string, string>): EdgeAccumulator => {
    const source = sourceOf(labels);
    const destination = destinationOf(labels);
    const key = `${source}\u0000${destination}`;
    let e = edges.get(key);
    if (!e) {
      e = { source, destination, requests: 0, rps: 0, throttled429: 0, errors5xx: 0, buckets: new Map(), calleeSeries: [], calleeActive: [], callerPrincipals: new Set() };
      edges.set(key, e);
    }
    return e;
  };
  const latest = latestSamples(after, (n) => n === REQUESTS);
  for (const s of latest) if (s.labels.reporter === 'source') edge(s.labels);
  for (const inc of counterIncreases(before, after, (n) => n === REQUESTS || n === BUCKETS)) {
    if (inc.labels.reporter === 'source') addTraffic(edge(inc.labels), inc);
    else if (inc.labels.reporter === 'destination' && inc.name === REQUESTS && inc.increase > 0) {
      edges.get(`${sourceOf(inc.labels)}\u0000${destinationOf(inc.labels)}`)?.calleeActive.push(inc.labels);
    }
  }
  for (const s of latest) {
    if (s.labels.reporter === 'destination') edges.get(`${sourceOf(s.labels)}\u0000${destinationOf(s.labels)}`)?.calleeSeries.push(s.labels);
  }
  return [...edges.values()].map(finish).sort((a, b) => a.source.localeCompare(b.source) || a.destination.localeCompare(b.destination));
}
