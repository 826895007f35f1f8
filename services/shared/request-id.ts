import { randomUUID } from 'node:crypto';
import type { ServiceMiddleware } from './state.js';

export const REQUEST_ID_HEADER = 'x-request-id';

// A caller-supplied id is kept only when it is short and printable: it ends up in every log line.
const ACCEPTABLE_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/** Takes the caller's x-request-id (or makes a UUID), keeps it on ctx.state and echoes it. */
export function requestId(): ServiceMiddleware {
  return async function requestIdMiddleware(ctx, next) {
    const given = ctx.get(REQUEST_ID_HEADER);
    const id = ACCEPTABLE_ID.test(given) ? given : randomUUID();
    ctx.state.requestId = id;
    ctx.set(REQUEST_ID_HEADER, id);
    await next();
  };
}
