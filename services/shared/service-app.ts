import Koa from 'koa';
import type { Writable } from 'node:stream';
import { accessLog } from './access-log.js';
import type { Clock } from './clock.js';
import { health } from './health.js';
import { jsonErrors } from './json-errors.js';
import { requestId } from './request-id.js';
import type { ServiceState } from './state.js';
import { traceContext } from './trace.js';

/** What every service's createApp receives besides its own store and config. */
export interface ServiceDeps {
  clock: Clock;
  /** Receives one JSON access-log line per request. */
  log: Writable;
  /** Receives one JSON line per 5xx with its details (kept apart so the access log stays one line per request). */
  errorLog: Writable;
}

export type ServiceApp = Koa<ServiceState>;

interface ErrorWithStatus {
  status?: unknown;
  message?: unknown;
  stack?: unknown;
  code?: unknown;
  cause?: unknown;
}

function describeCause(cause: unknown): string | undefined {
  if (cause === undefined) return undefined;
  const c = cause as ErrorWithStatus;
  return typeof c.message === 'string' ? `${String(c.code ?? '')} ${c.message}`.trim() : String(cause);
}

/**
 * A Koa app with the middleware every service shares, in order: request id, trace context, access
 * log, JSON errors, /healthz. The service adds its body parser and routes after this.
 */
export function createServiceApp(service: string, deps: ServiceDeps): ServiceApp {
  const app = new Koa<ServiceState>();
  // The app sits behind a sidecar (or Envoy) on loopback; client addresses come from the mesh, not here.
  app.proxy = false;
  app.silent = true;
  app.on('error', (err: ErrorWithStatus, ctx?: Koa.ParameterizedContext<ServiceState>) => {
    const line = {
      time: new Date(deps.clock.now()).toISOString(),
      service,
      level: 'error',
      requestId: ctx?.state.requestId ?? null,
      traceId: ctx?.state.trace?.traceId ?? null,
      status: typeof err.status === 'number' ? err.status : 500,
      message: typeof err.message === 'string' ? err.message : String(err),
      cause: describeCause(err.cause),
      stack: typeof err.stack === 'string' ? err.stack : undefined,
    };
    deps.errorLog.write(JSON.stringify(line) + '\n');
  });
  app.use(requestId());
  app.use(traceContext());
  app.use(accessLog({ service, clock: deps.clock, stream: deps.log }));
  app.use(jsonErrors());
  app.use(health({ service }));
  return app;
}
