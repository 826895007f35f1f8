import { randomUUID } from 'node:crypto';
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { pipeline as pipelineCb, type Writable } from 'node:stream';
import type { Pool } from 'undici';
import type { ApiKeyRecord, GatewayRoute, GatewaySpec } from '../local/specs.js';
import { formatAccessLogLine, newAccessLogRecord, type AccessLogRecord } from './access-log.js';
import { ApiKeyStore } from './api-keys.js';
import { BodyLimit } from './body-limit.js';
import { systemClock, type Clock } from './clock.js';
import { forwardableRequestHeaders, forwardableResponseHeaders, identityHeaders } from './headers.js';
import * as answers from './responses.js';
import { relayBody } from '../http/relay-body.js';
import { hasBody, splitStage } from './request-target.js';
import { GatewayThrottle } from './throttle.js';
import { resolveTrace } from './trace.js';
import { closeUpstreamPools, createUpstreamPools, type TlsMaterial, type UpstreamOptions } from './upstreams.js';

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
  /** Told about unexpected errors (bugs); main prints them to stderr. */
  onError?: (err: unknown) => void;
}

export interface GatewayHandle {
  readonly server: http.Server;
  /** Binds spec.host:spec.port unless told otherwise; resolves with the bound port. */
  listen(port?: number, host?: string): Promise<number>;
  /** Swaps every upstream pool for one built with new TLS material; requests in flight finish on the old ones. */
  reload(tls: TlsMaterial): Promise<void>;
  /** Stops accepting, lets in-flight requests finish (bounded), closes the pools. */
  close(): Promise<void>;
  inFlight(): number;
}

export const DEFAULT_UPSTREAM_TIMEOUT_MS = 29_000;
const DEFAULT_CONNECTIONS_PER_UPSTREAM = 128;
const DEFAULT_DRAIN_TIMEOUT_MS = 10_000;
const KEEP_ALIVE_TIMEOUT_MS = 30_000;

function ignore(): void {}

function round1(ms: number): number {
  return Math.round(ms * 10) / 10;
}

class Gateway {
  private pools: Map<string, Pool>;
  private readonly keys: ApiKeyStore;
  private readonly throttle: GatewayThrottle;
  private readonly stripped: Set<string>;
  private readonly routes: GatewayRoute[];
  private readonly clock: Clock;
  private readonly timeoutMs: number;
  private readonly upstreamOptions: UpstreamOptions;
  /** The transform's header names, lowercased once (Node lowercases incoming header names). */
  private readonly names: { requestId: string; keyId: string; usagePlan: string };
  private active = 0;
  private drained: (() => void) | undefined;
  readonly server: http.Server;

  constructor(
    private readonly spec: GatewaySpec,
    private readonly deps: GatewayDeps,
  ) {
    this.clock = deps.clock ?? systemClock;
    this.timeoutMs = deps.upstreamTimeoutMs ?? DEFAULT_UPSTREAM_TIMEOUT_MS;
    this.keys = new ApiKeyStore(spec.apiKeys);
    this.throttle = new GatewayThrottle(spec.gateway, spec.apiKeys);
    this.stripped = identityHeaders(spec.gateway.transform);
    const t = spec.gateway.transform;
    this.names = { requestId: t.requestIdHeader.toLowerCase(), keyId: t.keyIdHeader.toLowerCase(), usagePlan: t.usagePlanHeader.toLowerCase() };
    // Longest prefix first, so the first match is the best one.
    this.routes = [...spec.routes].sort((a, b) => b.pathPrefix.length - a.pathPrefix.length);
    this.upstreamOptions = {
      connections: deps.connectionsPerUpstream ?? DEFAULT_CONNECTIONS_PER_UPSTREAM,
      keepAliveTimeoutMs: KEEP_ALIVE_TIMEOUT_MS,
      connectTimeoutMs: Math.min(this.timeoutMs, 10_000),
    };
    this.pools = createUpstreamPools(spec.routes, deps.tlsMaterial, this.upstreamOptions);
    this.server = http.createServer({ keepAliveTimeout: KEEP_ALIVE_TIMEOUT_MS }, this.onRequest);
  }

  get inFlight(): number {
    return this.active;
  }

  private readonly onRequest = (req: IncomingMessage, res: ServerResponse): void => {
    this.active++;
    this.serve(req, res).then(this.onServed, this.onServed);
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

  private readonly onServed = (): void => {
    this.active--;
    if (this.active === 0 && this.drained) this.drained();
  };

  private routeFor(path: string): GatewayRoute | undefined {
    for (const r of this.routes) {
      if (path === r.pathPrefix || path.startsWith(r.pathPrefix + '/')) return r;
    }
    return undefined;
  }

  private async serveRequest(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const startMs = this.clock.nowMs();
    const epochMs = this.clock.epochMs();
    const { stage, path, query } = splitStage(req.url ?? '/');
    const requestIdHeader = this.names.requestId;
    const suppliedId = req.headers[requestIdHeader];
    const requestId = typeof suppliedId === 'string' && suppliedId.length > 0 ? suppliedId : randomUUID();
    const trace = resolveTrace(req.headers.traceparent as string | undefined, req.headers['x-amzn-trace-id'] as string | undefined, epochMs);
    const rec = newAccessLogRecord(requestId, trace.traceId, req, epochMs, stage);
    res.setHeader(requestIdHeader, requestId);
    res.setHeader('x-amzn-requestid', requestId);

    const route = stage === this.spec.stage ? this.routeFor(path) : undefined;
    if (!route) return this.answer(res, rec, answers.MISSING_AUTHENTICATION_TOKEN, startMs);
    rec.resourcePath = route.pathPrefix;
    const declared = Number(req.headers['content-length'] ?? 0);
    if (declared > this.spec.gateway.maxBodyBytes) {
      res.shouldKeepAlive = false;
      return this.answer(res, rec, answers.REQUEST_TOO_LARGE, startMs);
    }
    let key: ApiKeyRecord | undefined;
    if (route.requireApiKey) {
      const supplied = req.headers['x-api-key'];
      key = this.keys.find(typeof supplied === 'string' ? supplied : undefined);
      if (!key) return this.answer(res, rec, answers.INVALID_API_KEY, startMs);
      rec.apiKeyId = key.id;
      rec.usagePlan = key.plan;
    }
    const verdict = this.throttle.admit(rec.httpMethod, path, key?.id, startMs, epochMs);
    if (verdict !== 'admitted') {
      rec.throttled = true;
      return this.answer(res, rec, verdict === 'quota' ? answers.QUOTA_EXCEEDED : answers.THROTTLED, startMs);
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
    await this.forward(req, res, rec, route, path + query, headers, startMs);
  }

  private async forward(
    req: IncomingMessage,
    res: ServerResponse,
    rec: AccessLogRecord,
    route: GatewayRoute,
    upstreamPath: string,
    headers: Record<string, string | string[]>,
    startMs: number,
  ): Promise<void> {
    const pool = this.pools.get(route.service)!;
    let limiter: BodyLimit | undefined;
    let body: IncomingMessage | BodyLimit | undefined;
    if (hasBody(req)) {
      if (req.headers['transfer-encoding'] === undefined) {
        // A declared length was checked against maxBodyBytes already, and Node's parser never
        // reads past it: the request streams upstream as it is, without a counting stage.
        body = req;
      } else {
        limiter = new BodyLimit(this.spec.gateway.maxBodyBytes);
        pipelineCb(req, limiter, ignore);
        body = limiter;
      }
    }
    const sentMs = this.clock.nowMs();
    try {
      const upstream = await pool.request({
        path: upstreamPath,
        method: rec.httpMethod as 'GET',
        headers,
        body,
        headersTimeout: this.timeoutMs,
        bodyTimeout: this.timeoutMs,
      });
      rec.integrationLatency = round1(this.clock.nowMs() - sentMs);
      rec.status = upstream.statusCode;
      res.writeHead(upstream.statusCode, forwardableResponseHeaders(upstream.headers));
      await relayBody(upstream.body, res);
    } catch (err) {
      if (!res.headersSent) {
        const a = limiter?.exceeded ? answers.REQUEST_TOO_LARGE : answers.answerForUpstreamError(err);
        if (!limiter?.exceeded) rec.integrationError = answers.errorCode(err) ?? 'UNKNOWN';
        if (limiter?.exceeded) res.shouldKeepAlive = false;
        return this.answer(res, rec, a, startMs);
      }
      // The upstream failed mid-body, or the client went away: the status is already sent, so
      // all that is left is to cut the connection rather than pretend the body was complete.
      rec.integrationError = answers.errorCode(err) ?? 'ABORTED';
      res.destroy();
    }
    this.writeLog(rec, startMs);
  }

  private answer(res: ServerResponse, rec: AccessLogRecord, a: answers.GatewayAnswer, startMs: number): void {
    rec.status = a.status;
    rec.errorType = a.errorType;
    res.writeHead(a.status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(a.body), 'x-amzn-errortype': a.errorType });
    res.end(a.body);
    this.writeLog(rec, startMs);
  }

  private writeLog(rec: AccessLogRecord, startMs: number): void {
    rec.responseLatency = round1(this.clock.nowMs() - startMs);
    this.deps.log.write(formatAccessLogLine(rec));
  }

  listen(port = this.spec.port, host = this.spec.host): Promise<number> {
    return new Promise((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(port, host, () => {
        this.server.off('error', reject);
        resolve((this.server.address() as AddressInfo).port);
      });
    });
  }

  async reload(tls: TlsMaterial): Promise<void> {
    const fresh = createUpstreamPools(this.spec.routes, tls, this.upstreamOptions);
    const old = this.pools;
    this.pools = fresh;
    await closeUpstreamPools(old.values(), this.deps.drainTimeoutMs ?? DEFAULT_DRAIN_TIMEOUT_MS);
  }

  async close(): Promise<void> {
    const drainMs = this.deps.drainTimeoutMs ?? DEFAULT_DRAIN_TIMEOUT_MS;
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    this.server.closeIdleConnections();
    if (this.active > 0) {
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([
        new Promise<void>((resolve) => (this.drained = resolve)),
        new Promise<void>((resolve) => (timer = setTimeout(resolve, drainMs))),
      ]);
      clearTimeout(timer);
    }
    this.server.closeAllConnections();
    await closed;
    await closeUpstreamPools(this.pools.values(), drainMs);
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
  };
}
