/**
 * Hop-by-hop headers (RFC 9110 §7.6.1) describe one connection and are never forwarded: the fixed
 * list, plus every header the Connection header names. Host is set for the upstream origin and
 * Expect is answered by the proxy itself; undici refuses several of these outright.
 */
import type { IncomingHttpHeaders, OutgoingHttpHeaders } from 'node:http';

const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'te', 'trailer', 'upgrade', 'proxy-authorization', 'proxy-authenticate']);
const REQUEST_ONLY = new Set(['host', 'expect']);

const NONE: ReadonlySet<string> = new Set();

/** The header names a Connection header lists (lowercased), or none. */
function namedInConnection(connection: string | string[] | undefined): ReadonlySet<string> {
  if (connection === undefined) return NONE;
  const text = Array.isArray(connection) ? connection.join(',') : connection;
  const named = new Set<string>();
  for (const token of text.split(',')) {
    const name = token.trim().toLowerCase();
    if (name) named.add(name);
  }
  return named;
}

/**
 * A request's headers as they may go upstream: hop-by-hop ones, those named in Connection and
 * those in `drop` (headers only the proxy may set) removed.
 */
export function forwardableRequestHeaders(headers: IncomingHttpHeaders, drop: ReadonlySet<string> = NONE): Record<string, string | string[]> {
  const named = namedInConnection(headers.connection);
  const out: Record<string, string | string[]> = {};
  for (const name in headers) {
    if (HOP_BY_HOP.has(name) || REQUEST_ONLY.has(name) || drop.has(name) || named.has(name)) continue;
    const v = headers[name];
    if (v !== undefined) out[name] = v;
  }
  return out;
}

/** An upstream response's headers as they may go back to the client. */
export function forwardableResponseHeaders(headers: Record<string, string | string[] | undefined>): OutgoingHttpHeaders {
  const named = namedInConnection(headers.connection);
  const out: OutgoingHttpHeaders = {};
  for (const name in headers) {
    if (HOP_BY_HOP.has(name) || named.has(name)) continue;
    const v = headers[name];
    if (v !== undefined) out[name] = v;
  }
  return out;
}
