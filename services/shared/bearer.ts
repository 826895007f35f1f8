import type { ParameterizedContext } from 'koa';

const BEARER = /^Bearer +([A-Za-z0-9._~+/-]+=*) *$/i;

/** The token of an `Authorization: Bearer <token>` header (RFC 6750 §2.1), or undefined. */
export function bearerToken(ctx: ParameterizedContext): string | undefined {
  return BEARER.exec(ctx.get('authorization'))?.[1];
}

/** 401 with the challenge RFC 6750 §3 asks for; `invalid` adds error="invalid_token". */
export function refuseBearer(ctx: ParameterizedContext, message: string, invalid: boolean): never {
  const challenge = invalid ? 'Bearer error="invalid_token"' : 'Bearer';
  return ctx.throw(401, message, { code: 'unauthorized', headers: { 'www-authenticate': challenge } });
}
