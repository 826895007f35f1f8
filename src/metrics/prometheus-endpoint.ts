/**
 * GET /stats/prometheus (PROMETHEUS_PATH) for a data-plane process: its registry's text, with the
 * custom collectors refreshed first. Served on the sidecar's admin listener and the gateway's
 * stats listener, as Envoy serves it on its admin port.
 */
import type { ServerResponse } from 'node:http';
import type { Registry } from 'prom-client';

export interface PrometheusSource {
  registry: Registry;
  /** Run before each scrape (EnvoyStatsCollector.refresh). */
  beforeScrape?: () => void;
}

/** Answers one scrape with the registry's text in prom-client's content type. */
export async function sendPrometheus(source: PrometheusSource, res: ServerResponse): Promise<void> {
  try {
    source.beforeScrape?.();
    const body = await source.registry.metrics();
    res.writeHead(200, { 'content-type': source.registry.contentType, 'content-length': Buffer.byteLength(body), 'cache-control': 'no-store' });
    res.end(body);
  } catch (err) {
    const body = JSON.stringify({ error: { code: 'METRICS_FAILED', message: (err as Error).message } }) + '\n';
    res.writeHead(500, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
    res.end(body);
  }
}
