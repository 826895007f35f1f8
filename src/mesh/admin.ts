/**
 * The admin listener (loopback only, plain HTTP): /stats, /stats/prometheus, /config_dump and /ready as Envoy's admin
 * has them, /refusals (the latest inbound refusals with their TLS error codes), and /fault, the
 * one writable route: the fault switch verify resilience drives (GET, POST a fault, DELETE it).
 */
import http from 'node:http';
import { PROMETHEUS_PATH } from '../metrics/contract.js';
import { sendPrometheus, type PrometheusSource } from '../metrics/prometheus-endpoint.js';
import { faultSchema, type FaultSwitch } from './fault.js';
import type { Refusal } from './inbound.js';
import type { ResolvedLimits } from './limits.js';
import type { Counters } from './stats.js';

export interface ConfigDump {
  workload: string;
  spiffeId: string;
  inbound: { address: string; mode: 'STRICT' | 'PERMISSIVE'; minVersion: string; ciphers: string; requestCert: boolean; rejectUnauthorized: boolean; allowedCallers: string[] };
  /** Stream timeouts and circuit-breaker bounds in force. */
  limits: ResolvedLimits;
  egress: { backend: string; listener: string; upstream: string; expectedSpiffeId: string; replicas: string[]; trafficPolicy: unknown }[];
  certificate: { identity: string | undefined; dnsNames: string[]; notBefore: string; notAfter: string; issuer: string; fingerprint: string };
  app: string;
}

export interface AdminSource {
  counters: Counters;
  /** The latest inbound refusals, oldest first. */
  refusals(): Refusal[];
  configDump(): ConfigDump;
  ready(): boolean;
  fault?: FaultSwitch;
  /** The sidecar's Prometheus registry: GET /stats/prometheus, as Envoy's admin serves it. */
  prometheus?: PrometheusSource;
}

/** A fault is four numbers: a larger body is no fault. */
const MAX_FAULT_BODY_BYTES = 4096;

function sendJson(res: http.ServerResponse, status: number, data: unknown): void {
  const body = JSON.stringify(data, null, 2) + '\n';
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), 'cache-control': 'no-store' });
  res.end(body);
}

export function createAdminServer(source: AdminSource): http.Server {
  return http.createServer((req, res) => {
    const route = (req.url ?? '/').split('?')[0];
    if (route === '/fault' && source.fault) return void handleFault(source.fault, req, res);
    req.resume();
    if (req.method !== 'GET') return sendJson(res, 405, { error: { code: 'METHOD_NOT_ALLOWED', message: 'the admin API is read-only, except /fault' } });
    if (route === '/stats') return sendJson(res, 200, source.counters.snapshot());
    if (route === PROMETHEUS_PATH && source.prometheus) return void sendPrometheus(source.prometheus, res);
    if (route === '/refusals') return sendJson(res, 200, source.refusals());
    if (route === '/config_dump') return sendJson(res, 200, source.configDump());
    if (route === '/ready') return source.ready() ? sendJson(res, 200, { ready: true }) : sendJson(res, 503, { ready: false });
    return sendJson(res, 404, { error: { code: 'NOT_FOUND', message: `try /stats, ${PROMETHEUS_PATH}, /config_dump, /refusals, /ready or /fault` } });
  });
}

/** GET shows the fault in force ({"fault": null} when none), POST sets one (validated), DELETE clears it. */
async function handleFault(fault: FaultSwitch, req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
  if (req.method === 'GET') {
    req.resume();
    return sendJson(res, 200, { fault: fault.current ?? null });
  }
  if (req.method === 'DELETE') {
    req.resume();
    fault.clear();
    return sendJson(res, 200, { fault: null });
  }
  if (req.method !== 'POST') {
    req.resume();
    return sendJson(res, 405, { error: { code: 'METHOD_NOT_ALLOWED', message: '/fault takes GET, POST or DELETE' } });
  }
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_FAULT_BODY_BYTES) {
      res.shouldKeepAlive = false;
      return sendJson(res, 413, { error: { code: 'TOO_LARGE', message: `a fault is at most ${MAX_FAULT_BODY_BYTES} bytes of JSON` } });
    }
    chunks.push(chunk as Buffer);
  }
  let json: unknown;
  try {
    json = JSON.parse(Buffer.concat(chunks).toString('utf8'));
  } catch {
    return sendJson(res, 400, { error: { code: 'BAD_FAULT', message: 'the body is not JSON; send {"delayMs", "delayPercent", "abortStatus", "abortPercent"}' } });
  }
  const parsed = faultSchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    return sendJson(res, 400, { error: { code: 'BAD_FAULT', message: `${issue.path.join('.') || '(body)'}: ${issue.message}` } });
  }
  fault.set(parsed.data);
  return sendJson(res, 200, { fault: fault.current ?? null });
}
