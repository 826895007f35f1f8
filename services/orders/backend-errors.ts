import type { ParameterizedContext } from 'koa';
import type { BackendReply } from './backend-call.js';

/**
 * The answer orders gives when a backend let it down, as a proxy would: 503 unreachable,
 * 504 too slow, 502 anything else unusable (5xx, not JSON, not the expected shape). The message names
 * the backend; the low-level cause goes to the error log only.
 */
export function failBackend(ctx: ParameterizedContext, backend: string, reply: BackendReply): never {
  switch (reply.type) {
    case 'unreachable':
      return ctx.throw(503, `${backend} is unreachable`, { expose: true, code: 'backend_unreachable', cause: reply.detail });
    case 'timeout':
      return ctx.throw(504, `${backend} did not answer in time`, { expose: true, code: 'backend_timeout', cause: reply.detail });
    case 'broken':
      return ctx.throw(502, `${backend} sent an unusable answer`, { expose: true, code: 'backend_error', cause: reply.detail });
    case 'response': {
      const what = reply.isJson ? `status ${reply.status}` : `status ${reply.status} with a body that is not JSON`;
      return ctx.throw(502, `${backend} answered ${reply.status >= 500 ? 'with an error' : 'unexpectedly'}`, {
        expose: true,
        code: 'backend_error',
        cause: `${backend} answered ${what}`,
      });
    }
  }
}
