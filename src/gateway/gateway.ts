import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { Writable } from 'node:stream';
import { answerClientError } from '../dataplane/client-error.js';
import type { MeshUpstream } from '../dataplane/contracts.js';
import { CLUSTER_RESILIENCE_STATS, Counters, clusterStat } from '../dataplane/counters.js';
import { requestHasBody, sendUpstream } from '../dataplane/forward.js';
import { forwardableRequestHeaders, forwardableResponseHeaders } from '../dataplane/hop-by-hop.js';
import { Listener } from '../dataplane/listener.js';
import { MeshClient } from '../dataplane/mesh-client.js';
import { relayBody } from '../dataplane/relay-body.js';
import { createStatsServer } from '../dataplane/stats-server.js';
import type { TlsMaterial } from '../dataplane/tls-material.js';
import { classifyUpstreamError, rootErrorCode } from '../dataplane/upstream-errors.js';
import { PEER_IDENTITY_HEADER } from '../config/defaults.js';
import { ResponseFlag, upstreamFailureFlag } from '../metrics/response-flags.js';
import { GatewayTelemetry } from './telemetry.js';
import { formatAccessLogLine, newAccessLogRecord, type AccessLogRecord } from './access-log.js';
import { ApiKeyStore } from './api-keys.js';
import { readBody } from './body-limit.js';
import { systemClock, type Clock } from './clock.js';
import { CONNECTIONS_CHECK_INTERVAL_MS, DEFAULT_BODY_READ_TIMEOUT_MS, DEFAULT_HEADERS_TIMEOUT_MS, MAX_HEADER_BYTES, MAX_HEADER_COUNT } from './edge-limits.js';
import * as answers from './responses.js';
import { resolveRequestId } from './request-id.js';
import { splitStage } from './request-target.js';
import type { ApiKeyRecord, GatewayRoute, GatewaySpec } from './spec.js';
import { GatewayThrottle } from './throttle.js';
import type { QuotaStore } from './quota-store.js';
import { resolveTrace } from './trace.js';

export interface GatewayDeps {
  clock?: Clock;
  /** Access-log lines (JSON, one per request) go here. */
  log: Writable;
  /** Needed when any upstream is https:// (the mesh's mTLS). */
  tlsMaterial?: TlsMaterial;
  /** API Gateway's integration timeout is 29 s. */
  upstreamTimeoutMs?: number;
  connectionsPerUpstream?: number;
  /** How long close() waits for in-flight requests. */
  drainTimeoutMs?: number;
  /** Bound on reading a whole request body, from the moment the request is admitted. */
  bodyReadTimeoutMs?: number;
  /** Bound on receiving a request's headers (Node's server.headersTimeout). */
  headersTimeoutMs?: number;
  /** Told about unexpected errors (bugs); main prints them to stderr. */
  onError?: (err: unknown) => void;
  /** Where usage-plan quotas persist across restarts (memory only without it); its owner closes it after close(). */
  quotaStore?: QuotaStore;
}

export interface GatewayHandle {
  readonly server: http.Server;
  /** Binds spec.host:spec.port unless told otherwise and opens the warm mesh connections; resolves with the bound port. */
  listen(port?: number, host?: string): Promise<number>;
  /** Swaps the mesh client for one built (and warmed) with new TLS material; requests in flight finish on the old one. */
  reload(tls: TlsMaterial): Promise<void>;
  /** Stops accepting, lets in-flight requests finish (bounded), closes the mesh client. */
  close(): Promise<void>;
  inFlight(): number;
  /** The mesh client's counters (cluster.<service>.*), also served on spec.adminPort. */
  readonly counters: Counters;
  /** The stats listener's bound port once listening, if spec.adminPort asked for one. */
  adminPort(): number | undefined;
  /** Istio's request metrics, the throttled metric and the Envoy-named counters, served at /stats/prometheus on the stats listener. */
  readonly telemetry: GatewayTelemetry;
}

export const DEFAULT_UPSTREAM_TIMEOUT_MS = 29_000;
const DEFAULT_CONNECTIONS_PER_UPSTREAM = 128;
const DEFAULT_DRAIN_TIMEOUT_MS = 10_000;
const CLIENT_KEEP_ALIVE_TIMEOUT_MS = 30_000;
/** Idle mesh connections are kept this long (under the sidecars' inbound keep-alive). */
const MESH_KEEP_ALIVE_MS = 300_000;

function afterPendingArrivals(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

function round1(ms: number): number {
  return Math.round(ms * 10) / 10;
}

/**
 * Headers that never reach a service: the identity headers only the gateway or a sidecar may set
 * (a client's copies are dropped), and the API key itself, a secret the services have no use for
 * (they get its id in keyIdHeader instead).
 */
function gatewayOnlyHeaders(transform: { keyIdHeader: string; usagePlanHeader: string }): Set<string> {
  return new Set([
    transform.keyIdHeader.toLowerCase(),
    transform.usagePlanHeader.toLowerCase(),
    PEER_IDENTITY_HEADER,
    // A client's claims about a peer certificate or its own address: the sidecar sets XFCC from the
    // certificate it verified (as Istio's does), and the gateway's x-forwarded-for names the client.
    'x-forwarded-client-cert',
    'x-real-ip',
    'forwarded',
    'x-api-key',
  ]);
}

/**
 * The gateway: a router, API keys, the throttle and the access log in front of the mesh client
 * (dataplane/), which carries each admitted request over mTLS to the service's sidecar.
 */
class Gateway {
  private readonly client: MeshClient;
  private readonly keys: ApiKeyStore;
  private readonly throttle: GatewayThrottle;
  private readonly stripped: Set<string>;
  private readonly routes: GatewayRoute[];
  private readonly clock: Clock;
  private readonly timeoutMs: number;
  private readonly drainMs: number;
  private readonly bodyTimeoutMs: number;
  /** The transform's header names, lowercased once (Node lowercases incoming header names). */
  private readonly names: { requestId: string; keyId: string; usagePlan: string };
  private readonly listener: Listener;
  readonly server: http.Server;
  readonly counters = new Counters();
  readonly telemetry: GatewayTelemetry;
  private admin: Listener | undefined;
  adminPort: number | undefined;

  constructor(
    private readonly spec: GatewaySpec,
    private readonly deps: GatewayDeps,
  ) {
    this.clock = deps.clock ?? systemClock;
    this.timeoutMs = deps.upstreamTimeoutMs ?? DEFAULT_UPSTREAM_TIMEOUT_MS;
    this.drainMs = deps.drainTimeoutMs ?? DEFAULT_DRAIN_TIMEOUT_MS;
    this.bodyTimeoutMs = deps.bodyReadTimeoutMs ?? DEFAULT_BODY_READ_TIMEOUT_MS;
    this.keys = new ApiKeyStore(spec.apiKeys);
    this.throttle = new GatewayThrottle(spec.gateway, spec.apiKeys, { quotaStore: deps.quotaStore });
    this.stripped = gatewayOnlyHeaders(spec.gateway.transform);
    const t = spec.gateway.transform;
    this.names = { requestId: t.requestIdHeader.toLowerCase(), keyId: t.keyIdHeader.toLowerCase(), usagePlan: t.usagePlanHeader.toLowerCase() };
    // Longest prefix first, so the first match is the best one.
    this.routes = [...spec.routes].sort((a, b) => b.pathPrefix.length - a.pathPrefix.length);
    this.client = this.meshClient(deps.tlsMaterial);
    this.telemetry = new GatewayTelemetry(spec, this.counters, () => this.throttle.quotaRemaining(this.clock.epochMs()));
    const headersTimeout = deps.headersTimeoutMs ?? DEFAULT_HEADERS_TIMEOUT_MS;
    this.server = http.createServer(
      {
        keepAliveTimeout: CLIENT_KEEP_ALIVE_TIMEOUT_MS,
        maxHeaderSize: MAX_HEADER_BYTES,
        headersTimeout,
        // A backstop behind the gateway's own body deadline, which answers first.
        requestTimeout: headersTimeout + this.bodyTimeoutMs + 5_000,
        connectionsCheckingInterval: CONNECTIONS_CHECK_INTERVAL_MS,
      },
      this.onRequest,
    );
    this.server.on('clientError', answerClientError);
    this.listener = new Listener(this.server);
  }

  private meshClient(tls: TlsMaterial | undefined): MeshClient {
    const upstreams = new Map<string, MeshUpstream>(this.spec.routes.map((r) => [r.service, r.upstream]));
    // Reported even at zero, so that a delta can always be computed.
    for (const service of upstreams.keys()) for (const s of CLUSTER_RESILIENCE_STATS) this.counters.inc(clusterStat(service, s), 0);
    return new MeshClient(upstreams, tls, {
      stats: this.counters,
      connections: this.deps.connectionsPerUpstream ?? DEFAULT_CONNECTIONS_PER_UPSTREAM,
      keepAliveTimeoutMs: MESH_KEEP_ALIVE_MS,
      connectTimeoutMs: Math.min(this.timeoutMs, 10_000),
      requestTimeoutMs: this.timeoutMs,
      drainTimeoutMs: this.drainMs,
    });
  }

  get inFlight(): number {
    return this.listener.inFlight;
  }

  private readonly onRequest = (req: IncomingMessage, res: ServerResponse): void => {
    void this.serve(req, res);
  };

  /** A bug in serving one request answers 500 (or cuts that connection); it never hangs the client or the process. */
  private async serve(req: IncomingMessage, res: ServerResponse): Promise<void> {
    try {
      await this.serveRequest(req, res);
    } catch (err) {
      this.deps.onError?.(err);
      if (res.headersSent) res.destroy();
      else res.writeHead(500, { 'content-type': 'application/json' }).end('{"message":"Internal server error"}');
    }
  }

  private routeFor(path: string): GatewayRoute | undefined {
    for (const r of this.routes) {
      if (path === r.pathPrefix || path.startsWith(r.pathPrefix + '/')) return r;
    }
    return undefined;
  }

  private async serveRequest(req: IncomingMessage, res: ServerResponse): Promise<void> {
    // The throttle decides on the arrival time, not on when this request's turn to be parsed came.
    const startMs = this.clock.arrivalMs?.() ?? this.clock.nowMs();
    const epochMs = this.clock.epochMs();
    const { stage, path, query } = splitStage(req.url ?? '/');
    const requestIdHeader = this.names.requestId;
    const requestId = resolveRequestId(req.headers[requestIdHeader]);
    const trace = resolveTrace(req.headers.traceparent as string | undefined, req.headers['x-amzn-trace-id'] as string | undefined, epochMs);
    const rec = newAccessLogRecord(requestId, trace.traceId, req, epochMs, stage);
    res.setHeader(requestIdHeader, requestId);
    res.setHeader('x-amzn-requestid', requestId);
    if (req.rawHeaders.length > MAX_HEADER_COUNT * 2) return this.answer(res, rec, answers.HEADERS_TOO_LARGE, startMs);

    const route = stage === this.spec.stage ? this.routeFor(path) : undefined;
    if (!route) return this.answer(res, rec, answers.MISSING_AUTHENTICATION_TOKEN, startMs, undefined, ResponseFlag.noRoute);
    rec.resourcePath = route.pathPrefix;
    const declared = Number(req.headers['content-length'] ?? 0);
    if (declared > this.spec.gateway.maxBodyBytes) {
      res.shouldKeepAlive = false;
      return this.answer(res, rec, answers.REQUEST_TOO_LARGE, startMs, route);
    }
    let key: ApiKeyRecord | undefined;
    if (route.requireApiKey) {
      const supplied = req.headers['x-api-key'];
      key = this.keys.find(typeof supplied === 'string' ? supplied : undefined);
      if (!key) return this.answer(res, rec, answers.INVALID_API_KEY, startMs, route);
      rec.apiKeyId = key.id;
      rec.usagePlan = key.plan;
    }
    const refusedBy = this.throttle.decide(rec.httpMethod, path, key?.id, startMs, epochMs);
    if (refusedBy !== null) {
      rec.throttled = true;
      rec.throttleLayer = refusedBy;
      this.telemetry.throttled(refusedBy, route.pathPrefix, rec.httpMethod, rec.apiKeyId);
      return this.answer(res, rec, refusedBy === 'quota' ? answers.QUOTA_EXCEEDED : answers.THROTTLED, startMs, route, ResponseFlag.rateLimited);
    }
    const quotaRecorded = this.throttle.quotaRecorded(key?.id);
    // Requests that arrived together are all decided before any of them is proxied: the proxy work
    // waits for the check phase, after libuv has handed over every socket that was readable. Done
    // inline, each admitted request's upstream write would delay the next arrival's decision, and
    // a burst would be judged over a longer span than it arrived in (issue 13).
    await afterPendingArrivals();
    // Write-ahead: nothing is forwarded before the quota file counts it, so a crash at any moment
    // never lets through more than the quota allows (quota-store.ts).
    if (quotaRecorded) {
      try {
        await quotaRecorded;
      } catch {
        return this.answer(res, rec, answers.QUOTA_NOT_RECORDED, startMs, route);
      }
    }

    const headers = forwardableRequestHeaders(req.headers, this.stripped);
    headers[requestIdHeader] = requestId;
    headers.traceparent = trace.traceparent;
    headers['x-amzn-trace-id'] = trace.amznTraceId;
    const forwardedFor = req.headers['x-forwarded-for'];
    headers['x-forwarded-for'] = forwardedFor ? `${forwardedFor}, ${rec.ip}` : rec.ip;
    if (key) {
      headers[this.names.keyId] = key.id;
      headers[this.names.usagePlan] = key.plan;
    }
    await this.forward(req, res, rec, route, path + query, headers, startMs, requestId);
  }

  private async forward(
    req: IncomingMessage,
    res: ServerResponse,
    rec: AccessLogRecord,
    route: GatewayRoute,
    upstreamPath: string,
    headers: Record<string, string | string[]>,
    startMs: number,
    requestId: string,
  ): Promise<void> {
    let body: Buffer | null = null;
    if (requestHasBody(req)) {
      const read = await readBody(req, this.spec.gateway.maxBodyBytes, this.bodyTimeoutMs);
      if (read.type === 'aborted') {
        // The client went away mid-body: there is no one to answer, and nothing went upstream.
        res.destroy();
        return this.writeLog(rec, startMs, null, route, ResponseFlag.downstreamConnectionTermination);
      }
      if (read.type !== 'read') {
        // The rest of the body is never read: close the connection after the answer.
        res.shouldKeepAlive = false;
        return this.answer(res, rec, read.type === 'too-large' ? answers.REQUEST_TOO_LARGE : answers.REQUEST_TIMEOUT, startMs, route);
      }
      body = read.body;
    }
    const sentMs = this.clock.nowMs();
    let flags: string = ResponseFlag.none;
    try {
      const upstream = await sendUpstream(this.client.dispatcher(route.service)!, { path: upstreamPath, method: rec.httpMethod, headers, body, timeoutMs: this.timeoutMs });
      rec.integrationLatency = round1(this.clock.nowMs() - sentMs);
      rec.status = upstream.statusCode;
      const answerHeaders = forwardableResponseHeaders(upstream.headers);
      // The gateway's request id wins over whatever the service echoed: one id end to end.
      answerHeaders[this.names.requestId] = requestId;
      answerHeaders['x-amzn-requestid'] = requestId;
      res.writeHead(upstream.statusCode, answerHeaders);
      await relayBody(upstream.body, res);
    } catch (err) {
      if (!res.headersSent) {
        rec.integrationError = rootErrorCode(err) ?? 'UNKNOWN';
        return this.answer(res, rec, answers.answerForUpstreamError(err), startMs, route, upstreamFailureFlag(classifyUpstreamError(err).code));
      }
      // The upstream failed mid-body, or the client went away: the status is already sent, so
      // all that is left is to cut the connection rather than pretend the body was complete.
      rec.integrationError = rootErrorCode(err) ?? 'ABORTED';
      flags = ResponseFlag.upstreamRemoteReset;
      res.destroy();
    }
    this.writeLog(rec, startMs, req.socket, route, flags, true);
  }

  /** The gateway's own answer; `route` is the matched one (none: the request matched no route), `flags` Envoy's response flags for it. */
  private answer(res: ServerResponse, rec: AccessLogRecord, a: answers.GatewayAnswer, startMs: number, route?: GatewayRoute, flags: string = ResponseFlag.none): void {
    rec.status = a.status;
    rec.errorType = a.errorType;
    // Taken before end(): a finished response lets go of its socket.
    const socket = res.socket;
    res.writeHead(a.status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(a.body), 'x-amzn-errortype': a.errorType });
    res.end(a.body);
    this.writeLog(rec, startMs, socket, route, flags);
  }

  /** The request's end: its access-log line and its istio_* series (`upstream`: a service's sidecar answered it). */
  private writeLog(rec: AccessLogRecord, startMs: number, socket: Socket | null, route: GatewayRoute | undefined, flags: string, upstream = false): void {
    const latency = this.clock.nowMs() - startMs;
    rec.responseLatency = round1(latency);
    this.telemetry.request(route, upstream).record(rec.status, flags, latency, socket);
    this.deps.log.write(formatAccessLogLine(rec));
  }

  async listen(port = this.spec.port, host = this.spec.host): Promise<number> {
    // Warm before accepting: the first burst must not pay the mesh handshakes.
    await this.client.warm();
    if (this.spec.adminPort !== undefined) {
      this.admin = new Listener(createStatsServer(this.counters, this.telemetry.prometheus));
      this.adminPort = (await this.admin.listen({ host: '127.0.0.1', port: this.spec.adminPort })).port;
    }
    return (await this.listener.listen({ host, port })).port;
  }

  reload(tls: TlsMaterial): Promise<void> {
    return this.client.reload(tls);
  }

  async close(): Promise<void> {
    await this.listener.drain(this.drainMs);
    await this.client.close();
    await this.admin?.drain(0);
  }
}

/** Builds the gateway of a spec; nothing listens until listen(). */
export function createGateway(spec: GatewaySpec, deps: GatewayDeps): GatewayHandle {
  const gw = new Gateway(spec, deps);
  return {
    server: gw.server,
    listen: (port, host) => gw.listen(port, host),
    reload: (tls) => gw.reload(tls),
    close: () => gw.close(),
    inFlight: () => gw.inFlight,
    counters: gw.counters,
    adminPort: () => gw.adminPort,
    telemetry: gw.telemetry,
  };
}
