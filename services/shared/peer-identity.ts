import type { ParameterizedContext } from 'koa';
import { CLIENT_CERT_HEADER } from '../../src/config/defaults.js';

/**
 * The URI of an x-forwarded-client-cert value as meshgw's sidecar writes it: exactly one element
 * (the sidecar replaces any caller's copy, Envoy's SANITIZE_SET), `Key=value` pairs separated by
 * ';'. Anything else (several elements, quoted values, no URI) is not the sidecar's and gives null.
 */
export function xfccPeerUri(value: string): string | null {
  if (value.includes(',') || value.includes('"')) return null;
  let uri: string | null = null;
  for (const pair of value.split(';')) {
    const eq = pair.indexOf('=');
    if (eq > 0 && pair.slice(0, eq).trim().toLowerCase() === 'uri') {
      if (uri !== null) return null;
      uri = pair.slice(eq + 1).trim() || null;
    }
  }
  return uri;
}

/**
 * The caller's SPIFFE ID as the sidecar verified it (XFCC's URI), or null. The header is believed
 * only on a connection over the app's Unix socket, whose folder only the app and its own sidecar
 * can open, and the sidecar overwrites any copy a caller sent. Over TCP (a pod's port, or anything
 * else) anyone could have written it, so it means nothing.
 */
export function peerIdentity(ctx: ParameterizedContext): string | null {
  if (ctx.req.socket.remoteAddress !== undefined) return null;
  const xfcc = ctx.get(CLIENT_CERT_HEADER);
  return xfcc ? xfccPeerUri(xfcc) : null;
}
