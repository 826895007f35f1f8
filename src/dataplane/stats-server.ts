/**
 * A loopback, read-only stats listener for a data-plane process without an Envoy-like admin of its
 * own (the gateway): GET /stats and GET /__meshgw/stats return the counters as the sidecars' admin
 * /stats does, with the same cluster.<service>.* names; GET /stats/prometheus the process's
 * Prometheus registry when it has one (as Envoy's admin serves it).
 */
import http from 'node:http';
import { PROMETHEUS_PATH } from '../metrics/contract.js';
import { sendPrometheus, type PrometheusSource } from '../metrics/prometheus-endpoint.js';
import type { Counters } from './counters.js';

function send(res: http.ServerResponse, status: number, data: unknown): void {
  const body = JSON.stringify(data, null, 2) + '\n';
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), 'cache-control': 'no-store' });
  res.end(body);
}

export function createStatsServer(counters: Counters, prometheus?: PrometheusSource): http.Server {
  return http.createServer((req, res) => {
    req.resume();
    const route = (req.url ?? '/').split('?')[0];
    if (req.method !== 'GET') return send(res, 405, { error: { code: 'METHOD_NOT_ALLOWED', message: 'the stats endpoint is read-only' } });
    if (route === '/stats' || route === '/__meshgw/stats') return send(res, 200, counters.snapshot());
    if (route === PROMETHEUS_PATH && prometheus) return void sendPrometheus(prometheus, res);
    return send(res, 404, { error: { code: 'NOT_FOUND', message: prometheus ? `try /stats or ${PROMETHEUS_PATH}` : 'try /stats' } });
  });
}
