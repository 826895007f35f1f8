import type { IncomingHttpHeaders, OutgoingHttpHeaders } from 'node:http';
import { PEER_IDENTITY_HEADER } from '../config/defaults.js';

// Hop-by-hop headers (RFC 9110 §7.6.1) belong to one connection and are never forwarded; host is
// set by the client for the upstream origin, and expect is answered by the gateway itself.
const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'te', 'trailer', 'upgrade', 'host', 'expect']);
const RESPONSE_HOP_BY_HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'te', 'trailer', 'upgrade']);

/**
 * Headers that never reach a service: the identity headers only the gateway or a sidecar may set
 * (a client's copies are dropped), and the API key itself, a secret the services have no use for
 * (they get its id in keyIdHeader instead).
 */
export function identityHeaders(transform: { keyIdHeader: string; usagePlanHeader: string }): Set<string> {
  return new Set([transform.keyIdHeader.toLowerCase(), transform.usagePlanHeader.toLowerCase(), PEER_IDENTITY_HEADER, 'x-api-key']);
}

/** The client's headers minus hop-by-hop ones and any identity header it tried to supply. */
export function forwardableRequestHeaders(headers: IncomingHttpHeaders, stripped: ReadonlySet<string>): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  for (const name in headers) {
    if (HOP_BY_HOP.has(name) || stripped.has(name)) continue;
    const v = headers[name];
    if (v !== undefined) out[name] = v;
  }
  return out;
}

export function forwardableResponseHeaders(headers: Record<string, string | string[] | undefined>): OutgoingHttpHeaders {
  const out: OutgoingHttpHeaders = {};
  for (const name in headers) {
    if (RESPONSE_HOP_BY_HOP.has(name)) continue;
    const v = headers[name];
    if (v !== undefined) out[name] = v;
  }
  return out;
}
