import { randomHex } from './random-hex.js';

/** The trace a request carries, in both the W3C and the X-Ray spelling. */
export interface TraceHeaders {
  traceparent: string;
  amznTraceId: string;
  /** X-Ray trace id as logged: 1-<8 hex epoch seconds>-<24 hex>. */
  traceId: string;
}

const TRACEPARENT = /^00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$/;
const AMZN_ROOT = /(?:^|;)\s*Root=1-([0-9a-f]{8})-([0-9a-f]{24})(?:;|$)/;

/**
 * Keeps whatever trace the client sent and fills in the other spelling from it, so that a
 * W3C trace and its X-Ray id name the same trace (X-Ray's id is the W3C trace id split after
 * its first 8 hex digits). Starts a new trace when the client sent neither.
 */
export function resolveTrace(traceparent: string | undefined, amzn: string | undefined, epochMs: number): TraceHeaders {
  const w3c = traceparent ? TRACEPARENT.exec(traceparent) : null;
  const root = amzn ? AMZN_ROOT.exec(amzn) : null;
  if (w3c && root) return { traceparent: traceparent!, amznTraceId: amzn!, traceId: `1-${root[1]}-${root[2]}` };
  if (w3c) {
    const id = w3c[1];
    return { traceparent: traceparent!, amznTraceId: `Root=1-${id.slice(0, 8)}-${id.slice(8)}`, traceId: `1-${id.slice(0, 8)}-${id.slice(8)}` };
  }
  if (root) {
    const tp = `00-${root[1]}${root[2]}-${randomHex(8)}-01`;
    return { traceparent: tp, amznTraceId: amzn!, traceId: `1-${root[1]}-${root[2]}` };
  }
  const epochHex = Math.floor(epochMs / 1000).toString(16).padStart(8, '0').slice(-8);
  const rest = randomHex(12);
  return {
    traceparent: `00-${epochHex}${rest}-${randomHex(8)}-01`,
    amznTraceId: `Root=1-${epochHex}-${rest}`,
    traceId: `1-${epochHex}-${rest}`,
  };
}
