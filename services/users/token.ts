import { createHmac, timingSafeEqual } from 'node:crypto';

/** The claims of a login token (RFC 7519 registered names). */
export interface TokenClaims {
  /** The user id. */
  sub: string;
  name: string;
  /** Seconds since the epoch. */
  iat: number;
  exp: number;
}

export type TokenCheck =
  | { type: 'valid'; claims: TokenClaims }
  | { type: 'invalid'; reason: 'malformed' | 'algorithm' | 'signature' | 'claims' | 'expired' };

// Fixed header: HS256 only. Checking alg on the way in closes the "alg: none" and key-confusion holes.
const HEADER = Buffer.from(JSON.stringify({ alg: 'HS256', typ: 'JWT' })).toString('base64url');
const SEGMENT = /^[A-Za-z0-9_-]+$/;

function sign(input: string, secret: string): Buffer {
  return createHmac('sha256', secret).update(input).digest();
}

function decodeJson(segment: string): unknown {
  try {
    return JSON.parse(Buffer.from(segment, 'base64url').toString('utf8')) as unknown;
  } catch {
    return undefined;
  }
}

/** Makes a compact JWS (HS256) over the claims. */
export function signToken(claims: TokenClaims, secret: string): string {
  const payload = Buffer.from(JSON.stringify(claims)).toString('base64url');
  const input = `${HEADER}.${payload}`;
  return `${input}.${sign(input, secret).toString('base64url')}`;
}

function isClaims(value: unknown): value is TokenClaims {
  if (typeof value !== 'object' || value === null) return false;
  const c = value as Record<string, unknown>;
  return typeof c.sub === 'string' && typeof c.name === 'string' && Number.isInteger(c.iat) && Number.isInteger(c.exp);
}

/** Checks algorithm, signature (constant time) and expiry against `nowSeconds`. */
export function verifyToken(token: string, secret: string, nowSeconds: number): TokenCheck {
  const parts = token.split('.');
  if (parts.length !== 3 || !parts.every((p) => SEGMENT.test(p))) return { type: 'invalid', reason: 'malformed' };
  const [header, payload, signature] = parts;
  const h = decodeJson(header) as { alg?: unknown } | undefined;
  if (typeof h !== 'object' || h === null) return { type: 'invalid', reason: 'malformed' };
  if (h.alg !== 'HS256') return { type: 'invalid', reason: 'algorithm' };
  const expected = sign(`${header}.${payload}`, secret);
  const given = Buffer.from(signature, 'base64url');
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) return { type: 'invalid', reason: 'signature' };
  const claims = decodeJson(payload);
  if (!isClaims(claims)) return { type: 'invalid', reason: 'claims' };
  if (nowSeconds >= claims.exp) return { type: 'invalid', reason: 'expired' };
  return { type: 'valid', claims };
}
