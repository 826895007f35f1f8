/**
 * The sidecar's stream timeouts and circuit-breaker bounds: Envoy's knobs, with defaults chosen
 * for meshgw's traffic (small JSON requests that the gateway has already read whole).
 */
import type { SidecarLimits } from './spec.js';

/**
 * Envoy's default stream_idle_timeout is 5 min, sized for long polls and streams. Every meshgw
 * route answers within the 30 s upstream timeout, so a stream with nothing moving for a minute is
 * stuck (a client that stopped sending or stopped reading), and holding it longer only holds an
 * app connection.
 */
export const STREAM_IDLE_TIMEOUT_MS = 60_000;
/**
 * Envoy leaves request_timeout off by default. meshgw sets it: API Gateway gives an integration 29 s
 * end to end, so a request still arriving after 30 s cannot be answered in time anyway, and a
 * trickling upload (one byte every few seconds keeps the idle timer alive) is cut here.
 */
export const REQUEST_TIMEOUT_MS = 30_000;
/**
 * Envoy's circuit-breaker defaults (max_connections and max_pending_requests are both 1024). The
 * app's pool used to stop at 64, so 64 slow uploads occupied all of it (issue 14); connections
 * open only on demand, so the higher ceiling costs nothing under normal load.
 */
export const MAX_CONNECTIONS = 1024;
export const MAX_PENDING_REQUESTS = 1024;

export type ResolvedLimits = Required<SidecarLimits>;

/** The spec's limits over the defaults; throws naming the field when one is not a positive integer. */
export function resolveLimits(limits: SidecarLimits = {}): ResolvedLimits {
  const out: ResolvedLimits = {
    streamIdleTimeoutMs: limits.streamIdleTimeoutMs ?? STREAM_IDLE_TIMEOUT_MS,
    requestTimeoutMs: limits.requestTimeoutMs ?? REQUEST_TIMEOUT_MS,
    maxConnections: limits.maxConnections ?? MAX_CONNECTIONS,
    maxPendingRequests: limits.maxPendingRequests ?? MAX_PENDING_REQUESTS,
  };
  for (const [field, value] of Object.entries(out)) {
    // maxPendingRequests may be 0 (no queue at all); everything else must be at least 1.
    const min = field === 'maxPendingRequests' ? 0 : 1;
    if (!Number.isInteger(value) || value < min) throw new Error(`sidecar spec: limits.${field} must be an integer >= ${min}, got ${JSON.stringify(value)}`);
  }
  return out;
}
