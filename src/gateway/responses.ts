/**
 * The gateway's own answers, with API Gateway's bodies and its gateway response types
 * (https://docs.aws.amazon.com/apigateway/latest/developerguide/supported-gateway-response-types.html).
 */
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
export const REQUEST_TOO_LARGE = answer(413, 'REQUEST_TOO_LARGE', 'Request Too Long');
export const INTEGRATION_FAILURE = answer(502, 'INTEGRATION_FAILURE', 'Bad Gateway');
export const INTEGRATION_UNAVAILABLE = answer(503, 'INTEGRATION_FAILURE', 'Service Unavailable');
export const INTEGRATION_TIMEOUT = answer(504, 'INTEGRATION_TIMEOUT', 'Endpoint request timed out');

const UNAVAILABLE_CODES = new Set(['ECONNREFUSED', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN', 'UND_ERR_CLOSED', 'UND_ERR_DESTROYED']);
const TIMEOUT_CODES = new Set(['UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT', 'UND_ERR_CONNECT_TIMEOUT', 'ETIMEDOUT']);

/** Maps an upstream failure to 503 (not reachable), 504 (too slow) or 502 (anything else, TLS included). */
export function answerForUpstreamError(err: unknown): GatewayAnswer {
  const code = errorCode(err);
  if (code && TIMEOUT_CODES.has(code)) return INTEGRATION_TIMEOUT;
  if (code && UNAVAILABLE_CODES.has(code)) return INTEGRATION_UNAVAILABLE;
  return INTEGRATION_FAILURE;
}

export function errorCode(err: unknown): string | undefined {
  let e = err as { code?: unknown; name?: unknown; cause?: unknown } | undefined;
  for (let depth = 0; e && depth < 4; depth++) {
    if (typeof e.code === 'string') return e.code;
    if (e.cause === undefined && typeof e.name === 'string' && e.name !== 'Error') return e.name;
    e = e.cause as typeof e;
  }
  return undefined;
}
