/**
 * One request's trace from X-Ray: API Gateway's segment, then one segment per Envoy sidecar that
 * handled the request (Istio sends them through the collector), joined by parent ids. A caller's
 * outbound call is a subsegment of its segment (namespace "remote"); the callee's segment names it
 * as parent. Envoy sees a request only at the sidecar, so the app's own time is inside its
 * sidecar's segment: the mesh time of a hop is the caller's subsegment minus the callee's segment.
 */
import { MeshgwError } from '../errors.js';
import { orderSpans } from './span-tree.js';
import type { TraceSpan, TraceView } from './types.js';
import type { XRayApi, XRayTrace } from './xray-api.js';
import { API_GATEWAY_ORIGIN, parseSegment, type XRaySegment, type XRaySubsegment } from './xray-segments.js';

export interface XRayReadOptions {
  /** How far back to look for traces. */
  lookbackMs: number;
  /** At most this many candidate traces are fetched in full when searching. */
  maxTraces: number;
  now?: () => number;
}

/** X-Ray keeps traces 30 days, but a trace is about a recent request: an hour by default. */
export const DEFAULT_XRAY_LOOKBACK_MS = 60 * 60_000;
export const DEFAULT_XRAY_MAX_TRACES = 50;
const XRAY_TRACE_ID = /^1-[0-9a-f]{8}-[0-9a-f]{24}$/;

/** "orders.meshgw.svc.cluster.local:8080/*" → "orders"; "meshgw/prod" (API Gateway) → "gateway". */
export function workloadOfSegmentName(name: string): string {
  return name.split(/[./:]/)[0] || name;
}

function ms(seconds: number): number {
  return seconds * 1000;
}

function spanOf(id: string, name: string, kind: TraceSpan['kind'], workload: string, start: number, end: number | undefined, status: number | undefined, parentId?: string): TraceSpan {
  return { id, ...(parentId ? { parentId } : {}), kind, name, workload, startMs: ms(start), durationMs: end !== undefined ? ms(end - start) : 0, ...(status ? { status } : {}), timing: end !== undefined ? 'measured' : 'derived' };
}

function addSubsegments(spans: TraceSpan[], owner: string, parentId: string, subs: XRaySubsegment[] | undefined): void {
  for (const sub of subs ?? []) {
    // Only calls out (remote, or carrying an HTTP request) are hops; local work stays inside its owner.
    const isCall = sub.namespace === 'remote' || sub.http?.request !== undefined;
    if (isCall) spans.push(spanOf(sub.id, `${owner} → ${workloadOfSegmentName(sub.name)}`, 'hop', owner, sub.start_time, sub.end_time, sub.http?.response?.status, parentId));
    addSubsegments(spans, owner, isCall ? sub.id : parentId, sub.subsegments);
  }
}

/** Builds the view of one X-Ray trace. */
export function buildXRayTrace(trace: XRayTrace): TraceView {
  const segments = trace.documents.map(parseSegment).filter((s): s is XRaySegment => s !== undefined);
  const root = segments.find((s) => s.origin === API_GATEWAY_ORIGIN) ?? [...segments].sort((a, b) => a.start_time - b.start_time)[0];
  if (!root) throw new MeshgwError('STATE_MISSING', `X-Ray trace ${trace.id} has no complete segment yet`, 'Segments reach X-Ray within seconds to a minute: try again shortly.');
  const spans: TraceSpan[] = [];
  const notes = new Set<string>(["sidecar segments are Envoy's: they include the app's own time, so mesh ms on a hop is the caller's call minus the callee's whole segment."]);
  for (const seg of segments) {
    const isGateway = seg.origin === API_GATEWAY_ORIGIN;
    const workload = isGateway ? 'gateway' : workloadOfSegmentName(seg.name);
    spans.push(spanOf(seg.id, isGateway ? `gateway (API Gateway ${seg.name})` : `${workload} sidecar (inbound)`, isGateway ? 'gateway' : 'sidecar', workload, seg.start_time, seg.end_time, seg.http?.response?.status));
    addSubsegments(spans, workload, seg.id, seg.subsegments);
  }
  const byId = new Map(spans.map((s) => [s.id, s]));
  for (const seg of segments) {
    if (seg === root) continue;
    const span = byId.get(seg.id)!;
    const parent = seg.parent_id ? byId.get(seg.parent_id) : undefined;
    if (parent) {
      span.parentId = parent.id;
      // A call is named for the workload that answered it, not the address it was sent to (an NLB's DNS name).
      if (parent.kind === 'hop') parent.name = `${parent.workload} → ${span.workload}`;
    } else {
      span.parentId = root.id;
      notes.add(`${span.name}: its parent (${seg.parent_id ?? 'none'}) is not in the trace, so it hangs under the gateway.`);
    }
  }
  const ordered = orderSpans(spans);
  const rootSpan = ordered.spans[0];
  return {
    source: 'xray',
    requestId: root.aws?.api_gateway?.request_id ?? null,
    traceId: trace.id,
    method: root.http?.request?.method ?? '',
    path: root.http?.request?.url ? new URL(root.http.request.url, 'https://x').pathname : '',
    status: root.http?.response?.status ?? 0,
    startMs: rootSpan.startMs,
    durationMs: rootSpan.durationMs,
    spans: ordered.spans,
    notes: [...notes, ...ordered.notes],
  };
}

function matchesRequest(view: TraceView, method: string, resource: string): boolean {
  return view.method === method && (view.path === resource || view.path.endsWith(resource) || view.path.includes(`${resource}/`));
}

/**
 * The trace of one request (an X-Ray trace id, or API Gateway's request id), or the slowest
 * recent `method resource` request. Summaries narrow the search where X-Ray fills them in.
 */
export async function readXRayTrace(api: XRayApi, selector: { type: 'request'; id: string } | { type: 'slowest'; method: string; resource: string }, opts: XRayReadOptions): Promise<TraceView> {
  if (selector.type === 'request' && XRAY_TRACE_ID.test(selector.id)) {
    const [trace] = await api.traces([selector.id]);
    if (!trace) throw new MeshgwError('STATE_MISSING', `X-Ray has no trace ${selector.id}`, 'X-Ray keeps traces for 30 days, and only sampled requests are traced (API Gateway samples 1 request per second and 5 % of the rest by default).');
    return buildXRayTrace(trace);
  }
  const now = (opts.now ?? Date.now)();
  const summaries = await api.traceSummaries({ start: new Date(now - opts.lookbackMs), end: new Date(now) });
  const candidates = summaries
    .filter((s) => selector.type === 'request' || ((s.httpMethod === undefined || s.httpMethod === selector.method) && (s.httpUrl === undefined || s.httpUrl.includes(selector.resource))))
    .sort((a, b) => (b.responseTime ?? 0) - (a.responseTime ?? 0))
    .slice(0, opts.maxTraces);
  const views = (await api.traces(candidates.map((c) => c.id))).flatMap((t) => {
    try {
      return [buildXRayTrace(t)];
    } catch {
      return [];
    }
  });
  const minutes = Math.round(opts.lookbackMs / 60_000);
  if (selector.type === 'request') {
    const hit = views.find((v) => v.requestId === selector.id);
    if (!hit) throw new MeshgwError('STATE_MISSING', `no X-Ray trace of the last ${minutes} minutes carries API Gateway request id ${selector.id}`, 'Pass the X-Ray trace id (1-…, the x-amzn-trace-id Root of the answer) instead; only sampled requests are traced.');
    return hit;
  }
  const matching = views.filter((v) => matchesRequest(v, selector.method, selector.resource));
  if (matching.length === 0) throw new MeshgwError('STATE_MISSING', `no ${selector.method} ${selector.resource} trace in X-Ray over the last ${minutes} minutes`, 'Place an order through the invoke URL (e.g. `meshgw verify auth --target aws`), wait a minute for the segments to arrive, and run `meshgw trace --target aws` again.');
  return matching.reduce((a, b) => (b.durationMs > a.durationMs ? b : a));
}
