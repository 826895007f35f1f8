/**
 * Marking edges with firing alerts. The rules live in src/alerts (evaluateAlerts over the same
 * scrapes); `top` only asks which fire and matches their labels to edges.
 */
import type { Scrape } from '../metrics/contract.js';
import type { TopEdge } from './types.js';

/** The alert fields `top` reads (src/alerts/evaluate.ts's FiringAlert has these and more). */
export interface FiringAlertView {
  alert: string;
  labels: Record<string, string>;
}

/** Which alerts fire over these scrapes at this time. */
export type AlertEvaluator = (scrapes: Scrape[], atMs: number) => FiringAlertView[];

/**
 * meshgw's shipped alert rules (manifests/prometheus/meshgw-alerts.yaml via src/alerts), evaluated
 * over the scrapes `top` keeps with the ranges the rules name: with less history than a range,
 * Prometheus' rate() extrapolates over what there is, and so does the evaluator.
 */
export async function loadShippedAlerts(): Promise<AlertEvaluator> {
  const { evaluateAlerts } = await import('../alerts/evaluate.js');
  return (scrapes, atMs) => evaluateAlerts(scrapes, atMs);
}

/**
 * Whether an alert concerns an edge. Labels an alert groups by decide: source_workload and
 * destination_workload (or *_app / *_canonical_service) must equal the edge's sides when present;
 * an alert keyed only by the scrape target's `app` marks every edge into or out of that app.
 */
export function alertMatchesEdge(labels: Record<string, string>, edge: Pick<TopEdge, 'source' | 'destination'>): boolean {
  const side = (prefix: 'source' | 'destination') => labels[`${prefix}_workload`] ?? labels[`${prefix}_canonical_service`] ?? labels[`${prefix}_app`];
  const source = side('source');
  const destination = side('destination');
  if (source !== undefined || destination !== undefined) {
    return (source === undefined || source === edge.source) && (destination === undefined || destination === edge.destination);
  }
  const app = labels.app;
  return app !== undefined && (app === edge.source || app === edge.destination);
}

/** The edges with the names of the alerts that match each (sorted, once each). */
export function markEdges(edges: TopEdge[], firing: FiringAlertView[]): TopEdge[] {
  return edges.map((e) => ({ ...e, alerts: [...new Set(firing.filter((a) => alertMatchesEdge(a.labels, e)).map((a) => a.alert))].sort() }));
}
