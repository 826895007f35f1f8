/**
 * Relaying one HTTP exchange through a mesh client pool, streaming both bodies: the one proxy
 * path the gateway and the sidecars share. The gateway calls sendUpstream and relayResponse
 * itself (it measures integration latency and answers failures as API Gateway does); the sidecars
 * use forwardRequest, which composes them.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Readable } from 'node:stream';
import type { Dispatcher } from 'undici';
import type { RequestTarget } from './cluster.js';
import { forwardableRequestHeaders, forwardableResponseHeaders } from './hop-by-hop.js';
import { relayBody } from './relay-body.js';
import { classifyUpstreamError, describeUpstreamError, type UpstreamFailure } from './upstream-errors.js';

/** Whether a request carries a body to stream upstream (RFC 9112 §6.3: a non-zero length or a transfer coding). */
export function requestHasBody(req: IncomingMessage): boolean {
  const cl = req.headers['content-length'];
  return (cl !== undefined && cl !== '0') || req.headers['transfer-encoding'] !== undefined;
}

export interface UpstreamRequest {
  path: string;
  method: string;
  headers: Record<string, string | string[]>;
  body: Readable | Buffer | null;
  /** Bound on the answer's headers and on each gap in its body; the pool's default when unset. */
  timeoutMs?: number;
  /** Aborts the request (and frees its connection) when the proxy gives up on the stream. */
  signal?: AbortSignal;
}

/** Sends one request on `dispatcher` (a pool, or a cluster that balances and retries); rejects with undici's error when no answer comes. */
export function sendUpstream(dispatcher: RequestTarget, r: UpstreamRequest): Promise<Dispatcher.ResponseData> {
  return dispatcher.request({
    path: r.path,
    method: r.method as Dispatcher.HttpMethod,
    headers: r.headers,
    body: r.body,
    ...(r.timeoutMs !== undefined ? { headersTimeout: r.timeoutMs, bodyTimeout: r.timeoutMs } : {}),
    ...(r.signal !== undefined ? { signal: r.signal } : {}),
  });
}

/** The request's content-length, or Infinity when it has none (chunked). */
function declaredLength(req: IncomingMessage): number {
  const cl = req.headers['content-length'];
  return cl === undefined ? Infinity : Number(cl);
}

/** Collects a small body already bounded by its content-length (the HTTP parser stops at it). */
async function readWhole(body: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of body) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

/** Writes an upstream answer into `res` (hop-by-hop headers dropped) and streams its body; rejects when either side fails. */
export function relayResponse(upstream: Dispatcher.ResponseData, res: ServerResponse): Promise<void> {
  res.writeHead(upstream.statusCode, forwardableResponseHeaders(upstream.headers));
  return relayBody(upstream.body, res);
}

export type ForwardResult = { type: 'proxied'; status: number } | { type: 'failed'; failure: UpstreamFailure; error: string; headersSent: boolean };

export interface ForwardOptions {
  /** Headers only the proxy may set: a client's copies are dropped. */
  drop?: ReadonlySet<string>;
  /** Headers the proxy sets (they replace any copy). */
  set?: Record<string, string>;
  /** The body to send instead of `req` itself (a stream fed from it); null for none. */
  body?: Readable | null;
  signal?: AbortSignal;
  /**
   * A body declared (content-length) at most this long is read whole before it is sent, so that a
   * retry can send it again; a longer or chunked one streams and is never retried.
   */
  replayableBodyBytes?: number;
}

/** Sends `req` to `dispatcher` and streams the answer into `res`; never throws. */
export async function forwardRequest(req: IncomingMessage, res: ServerResponse, dispatcher: RequestTarget, opts: ForwardOptions = {}): Promise<ForwardResult> {
  const headers = forwardableRequestHeaders(req.headers, opts.drop);
  if (opts.set) for (const name in opts.set) headers[name] = opts.set[name];
  let upstream: Dispatcher.ResponseData;
  try {
    let body: Readable | Buffer | null = opts.body !== undefined ? opts.body : requestHasBody(req) ? req : null;
    if (body && opts.replayableBodyBytes !== undefined && declaredLength(req) <= opts.replayableBodyBytes) body = await readWhole(body);
    upstream = await sendUpstream(dispatcher, { path: req.url ?? '/', method: req.method ?? 'GET', headers, body, signal: opts.signal });
  } catch (err) {
    return { type: 'failed', failure: classifyUpstreamError(err), error: describeUpstreamError(err), headersSent: false };
  }
  try {
    await relayResponse(upstream, res);
  } catch (err) {
    // The answer was already under way: all that can be done is to cut the connection.
    res.destroy();
    return { type: 'failed', failure: classifyUpstreamError(err), error: describeUpstreamError(err), headersSent: true };
  }
  return { type: 'proxied', status: upstream.statusCode };
}

/**
 * Writes the JSON error body meshgw's sidecars answer with ({"error":{"code","message"}}); cuts the
 * connection when too late. `close` ends the connection after the answer: needed when part of the
 * request is still unread, since the next bytes on the connection would not start a new request.
 */
export function sendJsonError(res: ServerResponse, status: number, code: string, message: string, close = false): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const body = JSON.stringify({ error: { code, message } });
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), ...(close ? { connection: 'close' } : {}) });
  res.end(body);
}
