/** What `meshgw top` shows: the mesh's edges over one window between two scrapes. */
import type { Scrape } from '../metrics/contract.js';

/** One caller → callee pair, every replica of each side summed (workload label values are service names). */
export interface TopEdge {
  source: string;
  destination: string;
  /** The caller's SPIFFE ID as the callee's proxy verified it in the mTLS handshake; null when not reported. */
  sourcePrincipal: string | null;
  /** The callee's SPIFFE ID (its own certificate), null when not reported. */
  destinationPrincipal: string | null;
  /** true: every request the callee reported arrived over mutual TLS; false: some did not; null: no report from the callee. */
  mtls: boolean | null;
  /** Requests per second over the window (as the caller reported them). */
  rps: number;
  /** Share of requests not answered 5xx (linkerd's success rate: 4xx, 429 included, are the client's fault); null without requests. */
  successRate: number | null;
  /** Latency quantiles from the caller's histogram, interpolated as Prometheus' histogram_quantile does; null without requests. */
  p50Ms: number | null;
  p95Ms: number | null;
  p99Ms: number | null;
  /** Requests in the window. */
  requests: number;
  throttled429: number;
  errors5xx: number;
  /** Names of the firing alerts whose labels match this edge. */
  alerts: string[];
}

/** A scrape target that did not answer this round. */
export interface TargetDown {
  pod: string;
  url: string;
  reason: string;
}

/** `meshgw top --output json`: a stable shape, fields are only added. */
export interface TopSnapshot {
  target: 'local' | 'aws';
  /** ISO time of the window's end (the latest scrape). */
  at: string;
  windowSeconds: number;
  edges: TopEdge[];
  /** Targets that did not answer (their edges lack that side's numbers); empty when all did. */
  targetsDown: TargetDown[];
}

/** One round of scraping every target. */
export interface ScrapeRound {
  scrapes: Scrape[];
  down: TargetDown[];
}

/** Where scrapes come from: the local stack's admin ports, or the EKS pods through the API server. */
export interface ScrapeSource {
  readonly target: 'local' | 'aws';
  scrapeAll(signal?: AbortSignal): Promise<ScrapeRound>;
}
