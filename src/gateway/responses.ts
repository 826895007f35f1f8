/**
 * The gateway's own answers, with API Gateway's bodies and its gateway response types
 * (https://docs.aws.amazon.com/apigateway/latest/developerguide/supported-gateway-response-types.html).
 */
import { OVERFLOW_REASON, classifyUpstreamError } from '../dataplane/upstream-errors.js';

export interface GatewayAnswer {
  status: number;
  errorType: string;
  body: string;
}

function answer(status: number, errorType: string, message: string): GatewayAnswer {
  return { status, errorType, body: JSON.stringify({ message }) };
}

export const MISSING_AUTHENTICATION_TOKEN = answer(403, 'MISSING_AUTHENTICATION_TOKEN', 'Missing Authentication Token');
export const INVALID_API_KEY = answer(403, 'INVALID_API_KEY', 'Forbidden');
export const THROTTLED = answer(429, 'THROTTLED', 'Too Many Requests');
export const QUOTA_EXCEEDED = answer(429, 'QUOTA_EXCEEDED', 'Limit Exceeded');
/** The quota file could not be written: the request is refused rather than forwarded uncounted. */
export const QUOTA_NOT_RECORDED = answer(500, 'DEFAULT_5XX', 'Internal server error');
export const REQUEST_TOO_LARGE = answer(413, 'REQUEST_TOO_LARGE', 'Request Too Long');
// API Gateway has no response type of its own for these two: they fall under DEFAULT_4XX.
export const REQUEST_TIMEOUT = answer(408, 'DEFAULT_4XX', 'Request Timeout');
export const HEADERS_TOO_LARGE = answer(431, 'DEFAULT_4XX', 'Request Header Fields Too Large');
export const INTEGRATION_FAILURE = answer(502, 'INTEGRATION_FAILURE', 'Bad Gateway');
export const INTEGRATION_UNAVAILABLE = answer(503, 'INTEGRATION_FAILURE', 'Service Unavailable');
export const INTEGRATION_TIMEOUT = answer(504, 'INTEGRATION_TIMEOUT', 'Endpoint request timed out');
/** The service's connection pool and pending queue are full (its trafficPolicy.connectionPool): refused at once, with Envoy's reason. */
export const INTEGRATION_OVERFLOW = answer(503, 'INTEGRATION_FAILURE', OVERFLOW_REASON);

/** Maps an upstream failure to 503 (not reachable), 504 (too slow) or 502 (anything else, TLS and identity included). */
export function answerForUpstreamError(err: unknown): GatewayAnswer {
  const { status, code } = classifyUpstreamError(err);
  if (code === 'UPSTREAM_OVERFLOW') return INTEGRATION_OVERFLOW;
  if (status === 504) return INTEGRATION_TIMEOUT;
  if (status === 503) return INTEGRATION_UNAVAILABLE;
  return INTEGRATION_FAILURE;
}
