/**
 * Envoy's response flags in their short form, as the response_flags label carries them
 * (envoy source/common/stream_info/utility.h, ResponseFlagUtils; "-" when no flag is set).
 * Only the flags a meshgw data plane can produce are here.
 */
import type { UpstreamFailure } from '../dataplane/upstream-errors.js';

export const ResponseFlag = {
  none: '-',
  /** NoRouteFound: no route matched (the gateway's unknown paths). */
  noRoute: 'NR',
  /** RateLimited: what Envoy's local rate limit filter sets on its 429 (the gateway's throttle and quota). */
  rateLimited: 'RL',
  upstreamConnectionFailure: 'UF',
  upstreamRequestTimeout: 'UT',
  upstreamOverflow: 'UO',
  upstreamRemoteReset: 'UR',
  streamIdleTimeout: 'SI',
  faultInjected: 'FI',
  delayInjected: 'DI',
  downstreamConnectionTermination: 'DC',
} as const;

export type ResponseFlagValue = (typeof ResponseFlag)[keyof typeof ResponseFlag];

/**
 * The flag of a request whose upstream failed. A TLS or identity failure is a failed upstream
 * connection to Envoy (UF, with the TLS reason in the access log's transport failure reason).
 */
export function upstreamFailureFlag(code: UpstreamFailure['code']): ResponseFlagValue {
  switch (code) {
    case 'UPSTREAM_TIMEOUT':
      return ResponseFlag.upstreamRequestTimeout;
    case 'UPSTREAM_OVERFLOW':
      return ResponseFlag.upstreamOverflow;
    case 'UPSTREAM_RESET':
      return ResponseFlag.upstreamRemoteReset;
    default:
      return ResponseFlag.upstreamConnectionFailure;
  }
}

/** Envoy's order of the flags in a short string (the ResponseFlag enum's order, which toShortString follows). */
const ENVOY_ORDER = ['LH', 'UH', 'UT', 'LR', 'UR', 'UF', 'UC', 'UO', 'NR', 'DI', 'FI', 'RL', 'UAEX', 'RLSE', 'DC', 'URX', 'SI'];

/** Several flags in one label value, comma-separated in Envoy's order ("-" stands for none). */
export function joinFlags(...flags: string[]): string {
  const set = flags.filter((f) => f !== ResponseFlag.none);
  if (set.length === 0) return ResponseFlag.none;
  return set.sort((a, b) => ENVOY_ORDER.indexOf(a) - ENVOY_ORDER.indexOf(b)).join(',');
}
