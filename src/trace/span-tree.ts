/** Orders a trace's spans as a tree and checks that children sit inside their parents. */
import type { TraceSpan, TraceView } from './types.js';

/** Log lines are written with millisecond timestamps by separate processes: intervals are compared with this slack. */
export const CLOCK_SLACK_MS = 2;

/**
 * Depth-first, siblings by start. A child that reaches outside its parent is trimmed to it: the
 * parent is the time its caller waited, and a callee that finishes writing after its caller had the
 * answer (or a millisecond timestamp rounded the other way) adds nothing the caller saw. An overhang
 * beyond the clock slack is named in the notes rather than hidden.
 */
export function orderSpans(spans: TraceSpan[], slackMs = CLOCK_SLACK_MS): { spans: TraceSpan[]; notes: string[] } {
  const byParent = new Map<string | undefined, TraceSpan[]>();
  for (const s of spans) byParent.set(s.parentId, [...(byParent.get(s.parentId) ?? []), s]);
  const out: TraceSpan[] = [];
  const notes: string[] = [];
  const visit = (span: TraceSpan, parent: TraceSpan | undefined) => {
    let s = { ...span, startMs: round1(span.startMs), durationMs: round1(Math.max(0, span.durationMs)) };
    if (parent) {
      const pEnd = parent.startMs + parent.durationMs;
      const over = Math.max(parent.startMs - s.startMs, s.startMs + s.durationMs - pEnd);
      if (over > 0) {
        const start = Math.min(Math.max(s.startMs, parent.startMs), pEnd);
        s = { ...s, startMs: start, durationMs: round1(Math.max(0, Math.min(s.startMs + s.durationMs, pEnd) - start)) };
        if (over > slackMs) notes.push(`${s.name} reached ${round1(over)} ms outside ${parent.name} and is trimmed to it (it finished writing after its caller had the answer, or the processes' clocks disagree).`);
      }
    }
    out.push(s);
    for (const child of (byParent.get(span.id) ?? []).sort((a, b) => a.startMs - b.startMs)) visit(child, s);
  };
  for (const root of byParent.get(undefined) ?? []) visit(root, undefined);
  return { spans: out, notes };
}

const round1 = (n: number) => Math.round(n * 10) / 10;

export interface HopSummary {
  /** "gateway → orders" */
  hop: string;
  /** The hop as its caller saw it. */
  callerMs: number;
  /** The callee's own time: its app's (local logs), or its whole sidecar segment where the app is not seen (X-Ray). */
  calleeMs: number;
  callee: 'app' | 'sidecar';
  /** callerMs − calleeMs: sidecars, mTLS and the network on this hop. */
  meshMs: number;
  /** Of which inside the callee's inbound sidecar, when both its line and the app's were measured. */
  inboundSidecarMs?: number;
}

export interface TraceSummary {
  /** The gateway's own time: its total minus the time it waited on its upstream. */
  gatewayOwnMs: number;
  hops: HopSummary[];
}

/** Per hop: caller's view, callee's own time and what the mesh added; and the gateway's own time. */
export function summarizeTrace(trace: Pick<TraceView, 'spans' | 'durationMs'>): TraceSummary {
  const children = (id: string) => trace.spans.filter((s) => s.parentId === id);
  const hops: HopSummary[] = [];
  for (const hop of trace.spans.filter((s) => s.kind === 'hop')) {
    const side = children(hop.id).find((s) => s.kind === 'sidecar');
    const app = (side ? children(side.id) : children(hop.id)).find((s) => s.kind === 'app');
    const callee = app ?? (side?.timing === 'measured' ? side : undefined);
    const calleeMs = callee?.durationMs ?? 0;
    hops.push({
      hop: hop.name,
      callerMs: hop.durationMs,
      calleeMs,
      callee: callee?.kind === 'app' ? 'app' : 'sidecar',
      meshMs: round1(Math.max(0, hop.durationMs - calleeMs)),
      ...(app && side?.timing === 'measured' ? { inboundSidecarMs: round1(Math.max(0, side.durationMs - app.durationMs)) } : {}),
    });
  }
  const root = trace.spans.find((s) => s.parentId === undefined);
  const upstream = root ? children(root.id).filter((s) => s.kind === 'hop').reduce((n, s) => n + s.durationMs, 0) : 0;
  return { gatewayOwnMs: round1(Math.max(0, trace.durationMs - upstream)), hops };
}
