import { randomBytes } from 'node:crypto';
import type { ServiceMiddleware } from './state.js';
import { REQUEST_ID_HEADER } from './request-id.js';

export const TRACEPARENT_HEADER = 'traceparent';

export interface TraceContext {
  traceId: string;
  /** This service's span, the parent id of every outbound call it makes. */
  spanId: string;
  /** The caller's span, when there was one. */
  parentSpanId: string | undefined;
  flags: string;
}

// W3C Trace Context §3.2: version "00", 16-byte trace id, 8-byte parent id, 1-byte flags, lowercase hex.
const TRACEPARENT = /^([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})(-.*)?$/;
const ZERO_TRACE = '0'.repeat(32);
const ZERO_SPAN = '0'.repeat(16);

/** Parses a traceparent header; undefined when absent or invalid (the spec says: start a new trace). */
export function parseTraceparent(header: string): { traceId: string; parentSpanId: string; flags: string } | undefined {
  const m = TRACEPARENT.exec(header.trim());
  if (!m) return undefined;
  const [, version, traceId, parentSpanId, flags, rest] = m;
  // Version ff is forbidden; version 00 allows nothing after the flags.
  if (version === 'ff' || (version === '00' && rest !== undefined)) return undefined;
  if (traceId === ZERO_TRACE || parentSpanId === ZERO_SPAN) return undefined;
  return { traceId, parentSpanId, flags };
}

export function formatTraceparent(trace: TraceContext): string {
  return `00-${trace.traceId}-${trace.spanId}-${trace.flags}`;
}

/** Continues the caller's trace (or starts one, sampled) with a new span for this service. */
export function traceContext(): ServiceMiddleware {
  return async function traceMiddleware(ctx, next) {
    const parent = parseTraceparent(ctx.get(TRACEPARENT_HEADER));
    ctx.state.trace = {
      traceId: parent?.traceId ?? randomBytes(16).toString('hex'),
      spanId: randomBytes(8).toString('hex'),
      parentSpanId: parent?.parentSpanId,
      flags: parent?.flags ?? '01',
    };
    await next();
  };
}

/** Headers an outbound call carries so the next hop joins the same trace and request. */
export function propagationHeaders(state: { requestId: string; trace: TraceContext }): Record<string, string> {
  return { [TRACEPARENT_HEADER]: formatTraceparent(state.trace), [REQUEST_ID_HEADER]: state.requestId };
}
