import type { ParameterizedContext } from 'koa';
import { PEER_IDENTITY_HEADER } from '../../src/config/defaults.js';

/**
 * The caller's SPIFFE ID as the sidecar verified it, or null. The header is believed only on a
 * connection over the app's Unix socket, whose folder only the app and its own sidecar can open,
 * and the sidecar overwrites any copy a caller sent. Over TCP (a pod's port, or anything else)
 * anyone could have written it, so it means nothing.
 */
export function peerIdentity(ctx: ParameterizedContext): string | null {
  if (ctx.req.socket.remoteAddress !== undefined) return null;
  return ctx.get(PEER_IDENTITY_HEADER) || null;
}
