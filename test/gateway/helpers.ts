import http, { type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Writable } from 'node:stream';
import type { GatewayConfig } from '../../src/config/schema.js';
import type { AccessLogRecord } from '../../src/gateway/access-log.js';
import type { ApiKeyRecord, GatewayRoute, GatewaySpec } from '../../src/gateway/spec.js';

/** Collects access-log lines and lets a test wait for the n-th one without sleeping. */
export class LogCollector extends Writable {
  readonly records: AccessLogRecord[] = [];
  private waiters: { n: number; resolve: () => void }[] = [];

  override _write(chunk: Buffer, _enc: BufferEncoding, done: (err?: Error | null) => void): void {
    for (const line of chunk.toString('utf8').split('\n')) {
      if (line.trim()) this.records.push(JSON.parse(line) as AccessLogRecord);
    }
    this.waiters = this.waiters.filter((w) => (this.records.length >= w.n ? (w.resolve(), false) : true));
    done();
  }

  waitFor(n: number): Promise<void> {
    if (this.records.length >= n) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push({ n, resolve }));
  }
}

export interface SeenRequest {
  method: string;
  url: string;
  headers: IncomingHttpHeaders;
  /** As received: [name, value, name, value, ...], duplicates and case kept. */
  rawHeaders: string[];
  body: string;
}

export interface FakeUpstream {
  origin: string;
  seen: SeenRequest[];
  /** TCP connections accepted so far. */
  connections(): number;
  close(): Promise<void>;
}

type Handler = (req: IncomingMessage, res: ServerResponse, body: string) => void;

const echoJson: Handler = (req, res, body) => {
  res.writeHead(200, { 'content-type': 'application/json', 'x-upstream': 'yes' });
  res.end(JSON.stringify({ path: req.url, method: req.method, bodyLength: body.length }));
};

/** A plain-HTTP upstream on 127.0.0.1:0 that records what reached it. */
export async function startUpstream(handler: Handler = echoJson): Promise<FakeUpstream> {
  const seen: SeenRequest[] = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      seen.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, rawHeaders: req.rawHeaders, body });
      handler(req, res, body);
    });
  });
  let connections = 0;
  server.on('connection', () => connections++);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    origin: `http://127.0.0.1:${port}`,
    seen,
    connections: () => connections,
    close: () => {
      server.closeAllConnections();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}

/** A port nothing listens on (bound, then released). */
export { closedPort } from '../mesh/fixtures.js';

export function gatewayConfig(overrides: Partial<GatewayConfig> = {}): GatewayConfig {
  return {
    stage: 'prod',
    throttle: { rate: 1000, burst: 1000 },
    methodThrottles: [],
    usagePlans: [
      { name: 'standard', throttle: { rate: 1000, burst: 1000 }, apiKeys: ['demo-standard'] },
      { name: 'limited', throttle: { rate: 10, burst: 2 }, quota: { limit: 3, period: 'DAY' }, apiKeys: ['demo-limited'] },
    ],
    transform: { requestIdHeader: 'x-request-id', keyIdHeader: 'x-meshgw-api-key-id', usagePlanHeader: 'x-meshgw-usage-plan' },
    maxBodyBytes: 1024,
    ...overrides,
  };
}

export const API_KEYS: ApiKeyRecord[] = [
  { id: 'key-std-1', name: 'demo-standard', plan: 'standard', value: 'std-secret-0123456789abcdef' },
  { id: 'key-lim-1', name: 'demo-limited', plan: 'limited', value: 'lim-secret-0123456789abcdef' },
];

export function route(service: string, origin: string, requireApiKey = true): GatewayRoute {
  return { service, pathPrefix: `/${service}`, requireApiKey, upstream: { origin, expectedSpiffeId: `spiffe://cluster.local/ns/meshgw/sa/${service}` } };
}

export function gatewaySpec(routes: GatewayRoute[], gateway: GatewayConfig = gatewayConfig()): GatewaySpec {
  return {
    kind: 'gateway',
    host: '127.0.0.1',
    port: 0,
    stage: gateway.stage,
    gateway,
    routes,
    apiKeys: API_KEYS,
    tls: { caFile: '/nonexistent/ca.crt', certFile: '/nonexistent/tls.crt', keyFile: '/nonexistent/tls.key' },
    spiffeId: 'spiffe://cluster.local/ns/meshgw/sa/gateway',
  };
}
