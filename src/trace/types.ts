/**
 * One request's trace as `meshgw trace` shows it, whichever the source (the local JSON logs or
 * X-Ray): a tree of timed spans. This shape is what `--output json` prints: keep it stable.
 */

/** gateway: the gateway's own handling; hop: a call as its caller saw it; sidecar: time inside a sidecar; app: a service's handler. */
export type SpanKind = 'gateway' | 'hop' | 'sidecar' | 'app';

export interface TraceSpan {
  id: string;
  /** Absent on the root span only. */
  parentId?: string;
  kind: SpanKind;
  /** "gateway", "gateway → orders", "orders sidecar (inbound)", "orders". */
  name: string;
  /** The workload that spent this time. */
  workload: string;
  /** Epoch milliseconds. */
  startMs: number;
  durationMs: number;
  /** The HTTP status this span answered or received, when known. */
  status?: number;
  /** "measured": from a log line or segment; "derived": computed from others (see TraceView.notes). */
  timing: 'measured' | 'derived';
}

export interface TraceView {
  /** Where it came from: the local stack's logs or AWS X-Ray. */
  source: 'local-logs' | 'xray';
  requestId: string | null;
  /** X-Ray form (1-xxxxxxxx-yyyyyyyyyyyyyyyyyyyyyyyy). */
  traceId: string | null;
  method: string;
  path: string;
  status: number;
  startMs: number;
  durationMs: number;
  /** Depth-first order: each parent before its children, siblings by start time. */
  spans: TraceSpan[];
  /** How timings were obtained where that is not obvious (derived sidecar time, matching by time). */
  notes: string[];
}

/** Which request to show: one by id, or the slowest recent POST /orders. */
export type TraceSelector = { type: 'request'; id: string } | { type: 'slowest'; method: string; resource: string };
