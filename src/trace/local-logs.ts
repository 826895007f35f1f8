/**
 * The local stack's JSON log lines that a trace is made of, parsed at the boundary (STYLE rule 6):
 * the gateway's access log, each app's access log (services/shared/access-log.ts) and each
 * sidecar's request lines (src/mesh/inbound.ts, egress.ts). Other lines (start-up, errors) are skipped.
 */
import { open } from 'node:fs/promises';
import path from 'node:path';

export interface GatewayLogLine {
  requestId: string;
  traceId: string;
  requestTimeEpoch: number;
  httpMethod: string;
  resourcePath: string;
  path: string;
  status: number;
  responseLatency: number;
  /** -1 when no upstream was called. */
  integrationLatency: number;
}

export interface AppLogLine {
  /** Start of the request, epoch ms. */
  startMs: number;
  service: string;
  requestId: string;
  method: string;
  path: string;
  status: number;
  latencyMs: number;
  /** The caller's SPIFFE ID as the sidecar vouched for it. */
  peer: string | null;
}

export interface SidecarLogLine {
  /** End of the request (when the line was written), epoch ms. */
  endMs: number;
  direction: 'inbound' | 'egress';
  workload: string;
  /** inbound: the caller's SPIFFE ID. */
  peer?: string;
  /** egress: the backend called. */
  backend?: string;
  method: string;
  path: string;
  status: number;
  durationMs: number;
  /** Present if the sidecar logs the request id (then lines match exactly, not by time). */
  requestId?: string;
}

/** What one trace read needs from the logs folder. */
export interface LocalTraceLogs {
  gateway: GatewayLogLine[];
  apps: AppLogLine[];
  sidecars: SidecarLogLine[];
}

/** Only the newest part of each log is read: a trace is about recent requests, and logs grow without bound. */
export const DEFAULT_LOG_TAIL_BYTES = 16 * 1024 * 1024;

async function readTail(file: string, maxBytes: number): Promise<string> {
  let handle;
  try {
    handle = await open(file, 'r');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return '';
    throw err;
  }
  try {
    const { size } = await handle.stat();
    const start = Math.max(0, size - maxBytes);
    const buf = Buffer.alloc(size - start);
    await handle.read(buf, 0, buf.length, start);
    const text = buf.toString('utf8');
    // A cut first line is not JSON: drop it.
    return start > 0 ? text.slice(text.indexOf('\n') + 1) : text;
  } finally {
    await handle.close();
  }
}

function* jsonLines(text: string): Generator<Record<string, unknown>> {
  for (const line of text.split('\n')) {
    if (!line.startsWith('{')) continue;
    try {
      const v: unknown = JSON.parse(line);
      if (v && typeof v === 'object' && !Array.isArray(v)) yield v as Record<string, unknown>;
    } catch {
      // A line cut by a crash, or not ours: not part of any trace.
    }
  }
}

const str = (v: unknown): v is string => typeof v === 'string';
const num = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);

export function parseGatewayLine(o: Record<string, unknown>): GatewayLogLine | undefined {
  if (!str(o.requestId) || !str(o.traceId) || !num(o.requestTimeEpoch) || !str(o.httpMethod) || !str(o.path) || !num(o.status) || !num(o.responseLatency)) return undefined;
  return {
    requestId: o.requestId,
    traceId: o.traceId,
    requestTimeEpoch: o.requestTimeEpoch,
    httpMethod: o.httpMethod,
    resourcePath: str(o.resourcePath) ? o.resourcePath : '',
    path: o.path,
    status: o.status,
    responseLatency: o.responseLatency,
    integrationLatency: num(o.integrationLatency) ? o.integrationLatency : -1,
  };
}

export function parseAppLine(o: Record<string, unknown>): AppLogLine | undefined {
  if (!str(o.time) || !str(o.service) || !str(o.requestId) || !str(o.method) || !str(o.path) || !num(o.status) || !num(o.latencyMs)) return undefined;
  const startMs = Date.parse(o.time);
  if (!Number.isFinite(startMs)) return undefined;
  return { startMs, service: o.service, requestId: o.requestId, method: o.method, path: o.path, status: o.status, latencyMs: o.latencyMs, peer: str(o.peer) ? o.peer : null };
}

export function parseSidecarLine(o: Record<string, unknown>): SidecarLogLine | undefined {
  if (o.event !== 'request' || (o.direction !== 'inbound' && o.direction !== 'egress')) return undefined;
  if (!str(o.time) || !str(o.workload) || !str(o.method) || !str(o.path) || !num(o.status) || !num(o.durationMs)) return undefined;
  const endMs = Date.parse(o.time);
  if (!Number.isFinite(endMs)) return undefined;
  return {
    endMs,
    direction: o.direction,
    workload: o.workload,
    ...(str(o.peer) ? { peer: o.peer } : {}),
    ...(str(o.backend) ? { backend: o.backend } : {}),
    method: o.method,
    path: o.path,
    status: o.status,
    durationMs: o.durationMs,
    ...(str(o.requestId) ? { requestId: o.requestId } : {}),
  };
}

function collect<T>(text: string, parse: (o: Record<string, unknown>) => T | undefined): T[] {
  const out: T[] = [];
  for (const o of jsonLines(text)) {
    const v = parse(o);
    if (v) out.push(v);
  }
  return out;
}

/** The logs folder of a local stack (<stateDir>/local/logs, see src/local/plan.ts). */
export function localLogDir(stateDir: string): string {
  return path.join(stateDir, 'local', 'logs');
}

/** Reads gateway.log, <service>.log and <service>-sidecar.log for the given services. */
export async function readLocalTraceLogs(logDir: string, services: string[], maxBytes = DEFAULT_LOG_TAIL_BYTES): Promise<LocalTraceLogs> {
  const read = (name: string) => readTail(path.join(logDir, name), maxBytes);
  const gateway = collect(await read('gateway.log'), parseGatewayLine);
  const apps: AppLogLine[] = [];
  const sidecars: SidecarLogLine[] = [];
  for (const svc of services) {
    apps.push(...collect(await read(`${svc}.log`), parseAppLine));
    sidecars.push(...collect(await read(`${svc}-sidecar.log`), parseSidecarLine));
  }
  return { gateway, apps, sidecars };
}
