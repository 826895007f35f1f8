/**
 * One request's trace from the local stack's logs. The gateway's access log gives the request and
 * the time to its upstream; each app's access log carries the request id and the caller's verified
 * identity, which is how calls are joined into a tree; the sidecars' request lines give the time
 * inside each sidecar. Sidecar lines carry no request id, so they are matched by time: the line of
 * the right direction, peer or backend, method and path whose interval contains the callee's.
 * Where none matches, the sidecar time is derived as (the hop as its caller saw it) − (the callee's
 * own time), and the trace says so.
 */
import type { MeshgwConfig } from '../config/schema.js';
import { GATEWAY_WORKLOAD, spiffeId } from '../config/topology.js';
import { MeshgwError } from '../errors.js';
import type { AppLogLine, GatewayLogLine, LocalTraceLogs, SidecarLogLine } from './local-logs.js';
import { CLOCK_SLACK_MS as MATCH_SLACK_MS, orderSpans } from './span-tree.js';
import type { TraceSelector, TraceSpan, TraceView } from './types.js';

/** "Recent" for the slowest-request search: the newest this many matching requests. */
export const RECENT_REQUESTS = 1000;

const bare = (p: string) => p.split('?')[0];

/** Whether `outer` started no later than `inner` and was still running when `inner` started. */
function startsAround(outer: { start: number; end: number }, inner: { start: number; end: number }): boolean {
  return outer.start <= inner.start + MATCH_SLACK_MS && outer.end + MATCH_SLACK_MS >= inner.start;
}

function contains(outer: { start: number; end: number }, inner: { start: number; end: number }): boolean {
  return outer.start <= inner.start + MATCH_SLACK_MS && outer.end + MATCH_SLACK_MS >= inner.end;
}

function interval(line: SidecarLogLine): { start: number; end: number } {
  return { start: line.endMs - line.durationMs, end: line.endMs };
}

/**
 * The sidecar line of this call: exact by request id when the sidecar logs one, else the line that
 * started last before the callee did and was still open then. Starts are compared, not ends: a
 * line's end is when it was written, which a busy sidecar may do after the caller had its answer.
 */
function matchSidecar(lines: SidecarLogLine[], requestId: string, inner: { start: number; end: number }, fits: (l: SidecarLogLine) => boolean, used: Set<SidecarLogLine>): SidecarLogLine | undefined {
  const candidates = lines.filter((l) => fits(l) && !used.has(l) && (l.requestId !== undefined ? l.requestId === requestId : startsAround(interval(l), inner)));
  const best = candidates.sort((a, b) => interval(b).start - interval(a).start)[0];
  if (best) used.add(best);
  return best;
}

export function selectGatewayLine(lines: GatewayLogLine[], selector: TraceSelector): GatewayLogLine {
  if (selector.type === 'request') {
    const hit = [...lines].reverse().find((l) => l.requestId === selector.id || l.traceId === selector.id);
    if (!hit) throw new MeshgwError('STATE_MISSING', `no request ${selector.id} in the local gateway's access log`, 'Take the id from the x-request-id header of an answer (or the access log), or run `meshgw trace` without an id for the slowest recent order.');
    return hit;
  }
  const recent = lines.filter((l) => l.httpMethod === selector.method && l.resourcePath === selector.resource && l.integrationLatency >= 0).slice(-RECENT_REQUESTS);
  if (recent.length === 0) throw new MeshgwError('STATE_MISSING', `no ${selector.method} ${selector.resource} reached a service in the local gateway's access log`, 'Place an order first (e.g. `meshgw verify auth`), then run `meshgw trace` again.');
  return recent.reduce((a, b) => (b.responseLatency > a.responseLatency ? b : a));
}

interface Builder {
  cfg: MeshgwConfig;
  logs: LocalTraceLogs;
  requestId: string;
  spans: TraceSpan[];
  used: Set<SidecarLogLine>;
  notes: Set<string>;
}

/** Puts a hop of known duration around the callee's measured interval, splitting the difference evenly. */
function placeAround(inner: { start: number; end: number }, durationMs: number): number {
  return inner.start - Math.max(0, durationMs - (inner.end - inner.start)) / 2;
}

function addCall(b: Builder, app: AppLogLine, parent: TraceSpan, callerHop: { durationMs: number; status?: number } | undefined): void {
  const caller = parent.workload;
  const callee = app.service;
  const appIv = { start: app.startMs, end: app.startMs + app.latencyMs };
  const inbound = matchSidecar(b.logs.sidecars, b.requestId, appIv, (l) => l.direction === 'inbound' && l.workload === callee && l.peer === spiffeId(b.cfg, caller) && l.method === app.method && bare(l.path) === bare(app.path), b.used);
  const inIv = inbound ? interval(inbound) : appIv;
  const egress =
    caller === GATEWAY_WORKLOAD
      ? undefined
      : matchSidecar(b.logs.sidecars, b.requestId, inIv, (l) => l.direction === 'egress' && l.workload === caller && l.backend === callee && l.method === app.method && bare(l.path) === bare(app.path), b.used);
  const hopMs = callerHop?.durationMs ?? egress?.durationMs;
  const hopStart = egress ? interval(egress).start : hopMs !== undefined ? placeAround(inIv, hopMs) : inIv.start;
  const hop: TraceSpan = {
    id: `${caller}->${callee}#${b.spans.length}`,
    parentId: parent.id,
    kind: 'hop',
    name: `${caller} → ${callee}`,
    workload: caller,
    startMs: hopStart,
    durationMs: hopMs ?? inIv.end - inIv.start,
    ...(app.status ? { status: egress?.status ?? callerHop?.status ?? app.status } : {}),
    timing: hopMs !== undefined ? 'measured' : 'derived',
  };
  if (caller === GATEWAY_WORKLOAD) b.notes.add("gateway → service: the gateway's integrationLatency (request sent to response headers), placed around the callee's interval.");
  else if (egress) b.notes.add(`service → service: measured by the caller's egress sidecar (${caller}-sidecar.log), matched to the call by time.`);
  else b.notes.add(`${caller} → ${callee}: no egress sidecar line matched; the hop shows the callee's side only.`);
  b.spans.push(hop);
  let appParent = hop;
  if (inbound) {
    const side: TraceSpan = { id: `${callee}-sidecar#${b.spans.length}`, parentId: hop.id, kind: 'sidecar', name: `${callee} sidecar (inbound)`, workload: callee, startMs: inIv.start, durationMs: inbound.durationMs, status: inbound.status, timing: 'measured' };
    b.spans.push(side);
    appParent = side;
    b.notes.add('sidecar (inbound): the callee sidecar\'s own request line, matched by peer, method, path and time (sidecar lines carry no request id); its time outside the app is mTLS, RBAC and the relay over the app socket.');
  } else {
    b.spans.push({ id: `${callee}-sidecar#${b.spans.length}`, parentId: hop.id, kind: 'sidecar', name: `sidecars + network to ${callee} (derived)`, workload: callee, startMs: hop.startMs, durationMs: Math.max(0, hop.durationMs - app.latencyMs), timing: 'derived' });
    b.notes.add("sidecars + network (derived): no sidecar line matched, so it is the hop as its caller saw it minus the callee app's own time.");
  }
  const appSpan: TraceSpan = { id: `${callee}#${b.spans.length}`, parentId: appParent.id, kind: 'app', name: callee, workload: callee, startMs: app.startMs, durationMs: app.latencyMs, status: app.status, timing: 'measured' };
  b.spans.push(appSpan);
  for (const child of b.logs.apps.filter((a) => a.requestId === b.requestId && a !== app && a.peer === spiffeId(b.cfg, callee) && contains(appIv, { start: a.startMs, end: a.startMs + a.latencyMs }))) {
    addCall(b, child, appSpan, undefined);
  }
}

/** Builds the trace of one request from the logs, or throws a MeshgwError naming what is missing. */
export function buildLocalTrace(cfg: MeshgwConfig, logs: LocalTraceLogs, selector: TraceSelector): TraceView {
  const gw = selectGatewayLine(logs.gateway, selector);
  const root: TraceSpan = { id: 'gateway', kind: 'gateway', name: 'gateway', workload: GATEWAY_WORKLOAD, startMs: gw.requestTimeEpoch, durationMs: gw.responseLatency, status: gw.status, timing: 'measured' };
  const b: Builder = { cfg, logs, requestId: gw.requestId, spans: [root], used: new Set(), notes: new Set() };
  const first = logs.apps.find((a) => a.requestId === gw.requestId && a.peer === spiffeId(cfg, GATEWAY_WORKLOAD));
  if (first) addCall(b, first, root, gw.integrationLatency >= 0 ? { durationMs: gw.integrationLatency, status: gw.status } : undefined);
  else if (gw.integrationLatency >= 0) b.notes.add('the service that answered logged no line for this request id (its log was rotated or it crashed): only the gateway is shown.');
  const ordered = orderSpans(b.spans);
  return {
    source: 'local-logs',
    requestId: gw.requestId,
    traceId: gw.traceId,
    method: gw.httpMethod,
    path: gw.path,
    status: gw.status,
    startMs: gw.requestTimeEpoch,
    durationMs: gw.responseLatency,
    spans: ordered.spans,
    notes: [...b.notes, ...ordered.notes],
  };
}
