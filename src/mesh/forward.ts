/**
 * Relaying one HTTP request through an undici pool and writing the answer back, streaming both
 * bodies. Hop-by-hop headers (RFC 9110 §7.6.1) are dropped: they describe one connection, and
 * undici refuses some of them outright.
 */
import type { IncomingHttpHeaders, IncomingMessage, OutgoingHttpHeaders, ServerResponse } from 'node:http';
import type { Dispatcher } from 'undici';
import { relayBody } from '../http/relay-body.js';
import { classifyUpstreamError, type UpstreamFailure } from './tls-errors.js';

const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'te', 'trailer', 'upgrade', 'proxy-authorization', 'proxy-authenticate', 'host', 'expect']);

/** Copies request headers minus hop-by-hop ones (and those named in Connection), then applies `set`. */
export function upstreamHeaders(headers: IncomingHttpHeaders, set?: Record<string, string>): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  const named = headers.connection ? headers.connection.toLowerCase().split(',').map((s) => s.trim()) : [];
  for (const [name, value] of Object.entries(headers)) {
    if (value === undefined || HOP_BY_HOP.has(name) || named.includes(name)) continue;
    out[name] = value;
  }
  if (set) for (const [name, value] of Object.entries(set)) out[name] = value;
  return out;
}

function responseHeaders(headers: Record<string, string | string[] | undefined>): OutgoingHttpHeaders {
  const out: OutgoingHttpHeaders = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value === undefined || HOP_BY_HOP.has(name)) continue;
    out[name] = value;
  }
  return out;
}

export type ForwardResult = { type: 'proxied'; status: number } | { type: 'failed'; failure: UpstreamFailure; error: string };

/** Writes the JSON error body meshgw's sidecars answer with ({"error":{"code","message"}}). */
export function sendJsonError(res: ServerResponse, status: number, code: string, message: string): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const body = JSON.stringify({ error: { code, message } });
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
  res.end(body);
}

const NO_BODY = new Set(['GET', 'HEAD', 'OPTIONS', 'DELETE']);

/** Sends `req` to `dispatcher` and streams the answer into `res`; never throws. */
export async function forwardRequest(
  req: IncomingMessage,
  res: ServerResponse,
  dispatcher: Dispatcher,
  setHeaders?: Record<string, string>,
): Promise<ForwardResult> {
  const hasBody = !(NO_BODY.has(req.method ?? 'GET') && req.headers['content-length'] === undefined && req.headers['transfer-encoding'] === undefined);
  let upstream: Dispatcher.ResponseData;
  try {
    upstream = await dispatcher.request({
      path: req.url ?? '/',
      method: (req.method ?? 'GET') as Dispatcher.HttpMethod,
      headers: upstreamHeaders(req.headers, setHeaders),
      body: hasBody ? req : null,
    });
  } catch (err) {
    const failure = classifyUpstreamError(err);
    return { type: 'failed', failure, error: describeError(err) };
  }
  res.writeHead(upstream.statusCode, responseHeaders(upstream.headers));
  try {
    await relayBody(upstream.body, res);
  } catch (err) {
    // The answer was already under way: all that can be done is to cut the connection.
    res.destroy();
    return { type: 'failed', failure: classifyUpstreamError(err), error: describeError(err) };
  }
  return { type: 'proxied', status: upstream.statusCode };
}

function describeError(err: unknown): string {
  const e = err as { code?: string; message?: string; cause?: { code?: string; message?: string } };
  const inner = e?.cause?.code ?? e?.cause?.message;
  return [e?.code, e?.message, inner && inner !== e?.code ? `(${inner})` : undefined].filter(Boolean).join(' ');
}
