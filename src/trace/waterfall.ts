/** The trace as a text waterfall: one row per span, indented by depth, with a bar on a shared time axis. */
import { summarizeTrace } from './span-tree.js';
import type { TraceSpan, TraceView } from './types.js';

export const BAR_WIDTH = 48;

export function spanDepths(spans: TraceSpan[]): Map<string, number> {
  const byId = new Map(spans.map((s) => [s.id, s]));
  const depth = new Map<string, number>();
  for (const s of spans) {
    let d = 0;
    for (let p = s.parentId; p !== undefined && d < spans.length; p = byId.get(p)?.parentId) d++;
    depth.set(s.id, d);
  }
  return depth;
}

/** Offset and length of a span's bar in cells, on an axis from the trace's start to its end. */
export function barCells(span: Pick<TraceSpan, 'startMs' | 'durationMs'>, trace: Pick<TraceView, 'startMs' | 'durationMs'>, width = BAR_WIDTH): { offset: number; length: number } {
  const total = Math.max(trace.durationMs, 0.001);
  const offset = Math.min(width - 1, Math.max(0, Math.round(((span.startMs - trace.startMs) / total) * width)));
  const length = Math.max(1, Math.min(width - offset, Math.round((span.durationMs / total) * width)));
  return { offset, length };
}

const fixed = (n: number) => n.toFixed(1);

export function renderWaterfall(trace: TraceView): string {
  const depth = spanDepths(trace.spans);
  const labels = trace.spans.map((s) => `${'  '.repeat(depth.get(s.id) ?? 0)}${s.name}${s.timing === 'derived' ? ' *' : ''}`);
  const labelWidth = Math.max(4, ...labels.map((l) => l.length));
  const lines = [
    `trace ${trace.method} ${trace.path} → ${trace.status}  ${fixed(trace.durationMs)} ms  (request ${trace.requestId ?? '-'}, trace ${trace.traceId ?? '-'}, from ${trace.source === 'xray' ? 'X-Ray' : 'the local logs'})`,
    '',
    `${'span'.padEnd(labelWidth)}  ${'start'.padStart(7)}  ${'ms'.padStart(7)}  |${'0 ms'.padEnd(BAR_WIDTH - 8)}${`${fixed(trace.durationMs)} ms`.padStart(8)}|`,
  ];
  trace.spans.forEach((s, i) => {
    const { offset, length } = barCells(s, trace);
    const fill = s.timing === 'derived' ? '░' : '█';
    const bar = ' '.repeat(offset) + fill.repeat(length) + ' '.repeat(BAR_WIDTH - offset - length);
    lines.push(`${labels[i].padEnd(labelWidth)}  ${fixed(s.startMs - trace.startMs).padStart(7)}  ${fixed(s.durationMs).padStart(7)}  |${bar}|${s.status ? ` ${s.status}` : ''}`);
  });
  const summary = summarizeTrace(trace);
  if (summary.hops.length > 0) {
    const head = ['hop', 'caller ms', 'callee ms', 'mesh ms', 'inbound sidecar ms'];
    const rows = summary.hops.map((h) => [h.hop, fixed(h.callerMs), `${fixed(h.calleeMs)}${h.callee === 'sidecar' ? ' (sidecar)' : ''}`, fixed(h.meshMs), h.inboundSidecarMs !== undefined ? fixed(h.inboundSidecarMs) : '-']);
    const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
    const fmt = (cells: string[]) => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ');
    lines.push('', fmt(head), ...rows.map(fmt));
  }
  lines.push('', `gateway own time: ${fixed(summary.gatewayOwnMs)} ms (its total minus the time it waited on the service); mesh ms = the hop as its caller saw it − the callee's own time`);
  if (trace.spans.some((s) => s.timing === 'derived')) lines.push('* derived, not measured (░)');
  if (trace.notes.length > 0) lines.push('', 'how these times were obtained:', ...trace.notes.map((n) => `  - ${n}`));
  return lines.join('\n');
}
