/** The admin listener (loopback only, plain HTTP): /stats, /config_dump and /ready as Envoy's admin has them, and /refusals (the latest inbound refusals with their TLS error codes). */
import http from 'node:http';
import type { Refusal } from './inbound.js';
import type { ResolvedLimits } from './limits.js';
import type { Counters } from './stats.js';

export interface ConfigDump {
  workload: string;
  spiffeId: string;
  inbound: { address: string; mode: 'STRICT' | 'PERMISSIVE'; minVersion: string; ciphers: string; requestCert: boolean; rejectUnauthorized: boolean; allowedCallers: string[] };
  /** Stream timeouts and circuit-breaker bounds in force. */
  limits: ResolvedLimits;
  egress: { backend: string; listener: string; upstream: string; expectedSpiffeId: string }[];
  certificate: { identity: string | undefined; dnsNames: string[]; notBefore: string; notAfter: string; issuer: string; fingerprint: string };
  app: string;
}

export interface AdminSource {
  counters: Counters;
  /** The latest inbound refusals, oldest first. */
  refusals(): Refusal[];
  configDump(): ConfigDump;
  ready(): boolean;
}

function sendJson(res: http.ServerResponse, status: number, data: unknown): void {
  const body = JSON.stringify(data, null, 2) + '\n';
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), 'cache-control': 'no-store' });
  res.end(body);
}

export function createAdminServer(source: AdminSource): http.Server {
  return http.createServer((req, res) => {
    req.resume();
    const route = (req.url ?? '/').split('?')[0];
    if (req.method !== 'GET') return sendJson(res, 405, { error: { code: 'METHOD_NOT_ALLOWED', message: 'the admin API is read-only' } });
    if (route === '/stats') return sendJson(res, 200, source.counters.snapshot());
    if (route === '/refusals') return sendJson(res, 200, source.refusals());
    if (route === '/config_dump') return sendJson(res, 200, source.configDump());
    if (route === '/ready') return source.ready() ? sendJson(res, 200, { ready: true }) : sendJson(res, 503, { ready: false });
    return sendJson(res, 404, { error: { code: 'NOT_FOUND', message: 'try /stats, /config_dump, /refusals or /ready' } });
  });
}
