import { STATUS_CODES } from 'node:http';
import type { ServiceMiddleware } from './state.js';

/** The error body every service answers with. */
export interface ErrorBody {
  error: { code: string; message: string };
}

interface HttpishError {
  status?: unknown;
  expose?: unknown;
  message?: unknown;
  code?: unknown;
  headers?: unknown;
}

/** snake_case of the reason phrase: 404 → not_found, 413 → payload_too_large. */
export function codeForStatus(status: number): string {
  return (STATUS_CODES[status] ?? 'error').toLowerCase().replace(/[^a-z0-9]+/g, '_').replace(/^_|_$/g, '');
}

// Set by earlier middleware (request id) or by the router for a 405 (allow): still true after a failure.
const KEPT_HEADERS = new Set(['x-request-id', 'allow']);

// A status set without a body: the router's 404 (no route) and 405 (with Allow).
function emptyErrorMessage(status: number, method: string, path: string, allow: string): string {
  if (status === 404) return `no route for ${method} ${path}`;
  if (status === 405 && allow) return `${method} is not allowed on ${path} (allowed: ${allow})`;
  return STATUS_CODES[status] ?? 'Error';
}

function statusOf(err: HttpishError): number {
  const s = err.status;
  return typeof s === 'number' && Number.isInteger(s) && s >= 400 && s <= 599 ? s : 500;
}

/**
 * Turns every failure into `{"error":{"code","message"}}`. Client errors keep the message given to
 * ctx.throw; a 5xx shows only its reason phrase (unless thrown with expose: true) and is handed to
 * app.on('error') with its details. A status left without a body (no route, method not allowed) gets one too.
 */
export function jsonErrors(): ServiceMiddleware {
  return async function jsonErrorsMiddleware(ctx, next) {
    try {
      await next();
      if (ctx.body == null && ctx.status >= 400) ctx.throw(ctx.status, emptyErrorMessage(ctx.status, ctx.method, ctx.path, ctx.response.get('allow')));
    } catch (caught) {
      const err = (caught ?? {}) as HttpishError;
      const status = statusOf(err);
      const exposed = err.expose === true && typeof err.message === 'string';
      if (status >= 500) ctx.app.emit('error', caught, ctx);
      // Too late to answer with JSON: the socket is closed by Koa when the stream errors.
      if (ctx.headerSent || !ctx.writable) return;
      const code = typeof err.code === 'string' && /^[a-z_]+$/.test(err.code) ? err.code : codeForStatus(status);
      const body: ErrorBody = { error: { code, message: exposed ? (err.message as string) : (STATUS_CODES[status] ?? 'Error') } };
      // Headers set before the failure (e.g. half a success) must not leak into the error response.
      for (const h of ctx.res.getHeaderNames()) if (!KEPT_HEADERS.has(h)) ctx.res.removeHeader(h);
      if (err.headers && typeof err.headers === 'object') ctx.set(err.headers as Record<string, string>);
      ctx.status = status;
      ctx.body = body;
    }
  };
}
