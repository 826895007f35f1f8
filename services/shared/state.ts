import type { DefaultContext, DefaultState, Middleware } from 'koa';
import type { TraceContext } from './trace.js';

/** What the shared middleware leaves on ctx.state for the routes and the access log. */
export interface ServiceState extends DefaultState {
  requestId: string;
  trace: TraceContext;
}

export type ServiceMiddleware<S extends ServiceState = ServiceState> = Middleware<S, DefaultContext>;
