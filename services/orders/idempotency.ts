import { createHash } from 'node:crypto';
import type { ParameterizedContext } from 'koa';

export const IDEMPOTENCY_KEY_HEADER = 'idempotency-key';
/** Stripe's limit; the IETF draft sets none. */
export const MAX_IDEMPOTENCY_KEY_LENGTH = 255;

// draft-ietf-httpapi-idempotency-key-header: the value is a Structured Field sf-string (RFC 8941
// §3.3.3), e.g. "8e03978e-40d5-43e8-bc93-6894a57f9324". Stripe and most clients send it unquoted, so
// a bare run of visible ASCII is accepted as the key too.
const SF_STRING = /^"((?:[\x20\x21\x23-\x5b\x5d-\x7e]|\\["\\])*)"$/;
const BARE = /^[\x21-\x7e]+$/;

/**
 * The request's Idempotency-Key, or undefined when it has none; 400 when it is malformed (empty,
 * too long, not printable ASCII) rather than silently treating the request as unkeyed.
 */
export function idempotencyKey(ctx: ParameterizedContext): string | undefined {
  const raw = ctx.get(IDEMPOTENCY_KEY_HEADER).trim();
  if (raw === '' && ctx.headers[IDEMPOTENCY_KEY_HEADER] === undefined) return undefined;
  const quoted = SF_STRING.exec(raw);
  const key = quoted ? quoted[1].replace(/\\(["\\])/g, '$1') : BARE.test(raw) && !raw.startsWith('"') ? raw : undefined;
  if (key === undefined || key.length === 0 || key.length > MAX_IDEMPOTENCY_KEY_LENGTH) {
    return ctx.throw(400, `Idempotency-Key must be 1 to ${MAX_IDEMPOTENCY_KEY_LENGTH} printable ASCII characters, optionally in double quotes`, {
      code: 'invalid_idempotency_key',
    });
  }
  return key;
}

/**
 * The digest a key is bound to: the parsed request, so that the same order sent again with other
 * whitespace or key order is the same request, and any other order is not. `values` must be built
 * in a fixed field order.
 */
export function requestFingerprint(values: Record<string, unknown>): string {
  return createHash('sha256').update(JSON.stringify(values)).digest('hex');
}
