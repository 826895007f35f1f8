import type { Writable } from 'node:stream';
import type { Clock } from './clock.js';
import { peerIdentity } from './peer-identity.js';
import type { ServiceMiddleware } from './state.js';

/** One access-log line; the same fields on every service so lines from one trace can be joined. */
export interface AccessLogLine {
  time: string;
  service: string;
  requestId: string;
  traceId: string;
  method: string;
  path: string;
  status: number;
  latencyMs: number;
  /** The caller's SPIFFE ID as verified by the sidecar, or null when the request did not come from it over the app's private socket. */
  peer: string | null;
}

export interface AccessLogOptions {
  service: string;
  clock: Clock;
  stream: Writable;
}

/** Writes one JSON line per request once the response status is known. */
export function accessLog({ service, clock, stream }: AccessLogOptions): ServiceMiddleware {
  return async function accessLogMiddleware(ctx, next) {
    const started = clock.now();
    try {
      await next();
    } finally {
      const line: AccessLogLine = {
        time: new Date(started).toISOString(),
        service,
        requestId: ctx.state.requestId,
        traceId: ctx.state.trace.traceId,
        method: ctx.method,
        path: ctx.path,
        status: ctx.status,
        latencyMs: clock.now() - started,
        peer: peerIdentity(ctx),
      };
      stream.write(JSON.stringify(line) + '\n');
    }
  };
}
