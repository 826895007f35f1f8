/**
 * The trace as one self-contained HTML page (no scripts, no external assets: it opens offline).
 * Every string from a log or a segment is escaped: request paths are client-controlled.
 */
import { summarizeTrace } from './span-tree.js';
import type { TraceView } from './types.js';
import { spanDepths } from './waterfall.js';

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

const COLORS: Record<string, string> = { gateway: '#4c6ef5', hop: '#868e96', sidecar: '#f59f00', app: '#2f9e44' };
const pct = (n: number) => `${Math.max(0, Math.min(100, n)).toFixed(2)}%`;
const fixed = (n: number) => n.toFixed(1);

export function renderTraceHtml(trace: TraceView): string {
  const depth = spanDepths(trace.spans);
  const total = Math.max(trace.durationMs, 0.001);
  const rows = trace.spans
    .map((s) => {
      const left = ((s.startMs - trace.startMs) / total) * 100;
      const width = Math.max(0.5, (s.durationMs / total) * 100);
      const derived = s.timing === 'derived';
      return `<tr class="${s.kind}${derived ? ' derived' : ''}"><td class="name" style="padding-left:${(depth.get(s.id) ?? 0) * 1.2 + 0.3}em">${escapeHtml(s.name)}${derived ? ' <abbr title="derived, not measured">*</abbr>' : ''}</td><td class="num">${fixed(s.startMs - trace.startMs)}</td><td class="num">${fixed(s.durationMs)}</td><td class="num">${s.status ?? ''}</td><td class="bar"><div style="margin-left:${pct(left)};width:${pct(width)};background:${COLORS[s.kind]}${derived ? ';opacity:.45' : ''}" title="${escapeHtml(`${s.name}: ${fixed(s.durationMs)} ms`)}"></div></td></tr>`;
    })
    .join('\n');
  const summary = summarizeTrace(trace);
  const hopRows = summary.hops.map((h) => `<tr><td>${escapeHtml(h.hop)}</td><td class="num">${fixed(h.callerMs)}</td><td class="num">${`${fixed(h.calleeMs)}${h.callee === 'sidecar' ? ' (sidecar)' : ''}`}</td><td class="num">${fixed(h.meshMs)}</td><td class="num">${h.inboundSidecarMs !== undefined ? fixed(h.inboundSidecarMs) : '–'}</td></tr>`).join('\n');
  const title = `${trace.method} ${trace.path} → ${trace.status}`;
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>meshgw trace: ${escapeHtml(title)}</title>
<style>
body{font:14px/1.4 system-ui,sans-serif;margin:2em;color:#212529}
table{border-collapse:collapse;width:100%}td,th{padding:.2em .5em;border-bottom:1px solid #eee;text-align:left}
.num{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}.bar{width:55%}.bar div{height:.9em;border-radius:2px;min-width:2px}
.name{white-space:nowrap}.meta{color:#495057}
</style></head><body>
<h1>meshgw trace</h1>
<p class="meta"><b>${escapeHtml(title)}</b> in ${fixed(trace.durationMs)} ms · request ${escapeHtml(trace.requestId ?? '–')} · trace ${escapeHtml(trace.traceId ?? '–')} · from ${trace.source === 'xray' ? 'AWS X-Ray' : 'the local logs'} · started ${escapeHtml(new Date(trace.startMs).toISOString())}</p>
<table id="waterfall"><thead><tr><th>span</th><th class="num">start ms</th><th class="num">ms</th><th class="num">status</th><th>0 – ${fixed(trace.durationMs)} ms</th></tr></thead>
<tbody>
${rows}
</tbody></table>
<h2>Time per hop</h2>
<table id="hops"><thead><tr><th>hop</th><th class="num">caller ms</th><th class="num">callee ms</th><th class="num">mesh ms</th><th class="num">inbound sidecar ms</th></tr></thead>
<tbody>
${hopRows}
</tbody></table>
<p>Gateway own time: ${fixed(summary.gatewayOwnMs)} ms (its total minus the time it waited on the service). Mesh ms = the hop as its caller saw it − the callee's own time.</p>
${trace.notes.length ? `<h2>How these times were obtained</h2><ul>${trace.notes.map((n) => `<li>${escapeHtml(n)}</li>`).join('')}</ul>` : ''}
</body></html>
`;
}
