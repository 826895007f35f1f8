import getRawBody from 'raw-body';
import type { ServiceMiddleware } from './state.js';

declare module 'koa' {
  interface Request {
    /** The parsed JSON body, set by jsonBody(); undefined when the request had none. */
    body?: unknown;
  }
}

export interface JsonBodyOptions {
  /** Larger bodies are refused with 413 before they are buffered whole. */
  limitBytes: number;
}

interface RawBodyError {
  type?: unknown;
  status?: unknown;
}

/** Reads and parses a JSON request body into ctx.request.body: 413 over the limit, 400 if not JSON, 415 if another type. */
export function jsonBody({ limitBytes }: JsonBodyOptions): ServiceMiddleware {
  return async function jsonBodyMiddleware(ctx, next) {
    if (!ctx.request.length && ctx.get('transfer-encoding') === '') {
      ctx.request.body = undefined;
      return next();
    }
    if (!ctx.is('application/json', '+json')) {
      ctx.throw(415, 'request body must be application/json', { code: 'unsupported_media_type' });
    }
    let text: string;
    try {
      text = await getRawBody(ctx.req, { length: ctx.request.length, limit: limitBytes, encoding: 'utf8' });
    } catch (caught) {
      const err = caught as RawBodyError;
      if (err.type === 'entity.too.large') ctx.throw(413, `request body exceeds ${limitBytes} bytes`, { code: 'payload_too_large' });
      if (err.type === 'request.size.invalid') ctx.throw(400, 'request body is shorter than its content-length', { code: 'invalid_body' });
      throw caught;
    }
    try {
      ctx.request.body = text.length === 0 ? undefined : (JSON.parse(text) as unknown);
    } catch {
      ctx.throw(400, 'request body is not valid JSON', { code: 'invalid_json' });
    }
    await next();
  };
}
