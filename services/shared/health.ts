import type { ServiceMiddleware } from './state.js';

/** GET /healthz → 200 {"status":"ok","service":...}: the process is up and serving. */
export function health({ service }: { service: string }): ServiceMiddleware {
  const body = { status: 'ok', service };
  return async function healthMiddleware(ctx, next) {
    if (ctx.path !== '/healthz') return next();
    if (ctx.method !== 'GET' && ctx.method !== 'HEAD') ctx.throw(405, 'use GET /healthz', { headers: { allow: 'GET, HEAD' } });
    ctx.body = body;
  };
}
