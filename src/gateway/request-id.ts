import { randomUUID } from 'node:crypto';

/**
 * A client's request id is kept only when it is 1–128 characters of [A-Za-z0-9._:-]. The id is
 * echoed in two response headers, sent upstream and written into every log line of every hop, so
 * it must need no escaping anywhere (no spaces, quotes, slashes or control characters) and must
 * not bloat the logs; 128 fits every common generator (UUIDs 36, X-Ray trace ids 35, W3C
 * traceparent 55, ULIDs 26). The services accept exactly this set
 * (services/shared/request-id.ts): an id the gateway keeps is never replaced further down, so a
 * request has one id end to end.
 */
const ACCEPTABLE_REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/** The id of a request: the client's when it is acceptable, a fresh UUID otherwise (a repeated header counts as invalid). */
export function resolveRequestId(supplied: string | string[] | undefined): string {
  return typeof supplied === 'string' && ACCEPTABLE_REQUEST_ID.test(supplied) ? supplied : randomUUID();
}
