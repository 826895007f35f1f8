/**
 * report.html: one self-contained page (no script, font, image or stylesheet from elsewhere; the
 * charts are inline SVG), so it opens offline and from a CI artifact. Everything inserted is
 * escaped: details carry request paths, error messages and log text.
 */
import type { MeshgwConfig } from '../config/schema.js';
import { renderTraceHtml } from '../trace/html.js';
import { renderThrottleReportHtml } from '../verify/throttle/report-html.js';
import { embedPage } from './embed.js';
import { esc, factsTable, matrixTable, missing, refusalTable, scenarioTables } from './html-parts.js';
import type { EvidenceBundle } from './types.js';

const STYLE = `
body { font: 14px/1.45 system-ui, sans-serif; margin: 2rem auto; color: #212529; max-width: 1100px; padding: 0 1rem; }
h1 { margin-bottom: .2rem; }
section.part { margin: 2.2rem 0; }
table.grid, #facts { border-collapse: collapse; }
table.grid td, table.grid th, #facts td, #facts th { border-bottom: 1px solid #e5e5e5; padding: .25rem .6rem; text-align: left; vertical-align: top; }
#facts th { font-weight: normal; color: #555; }
.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
.mono { font-family: ui-monospace, monospace; overflow-wrap: anywhere; }
.nowrap { white-space: nowrap; }
td.match { background: #ebfbee; }
td.differs, tr.fail { background: #fff5f5; }
tr.warn { background: #fff9db; }
.missing { color: #862e9c; font-style: italic; }
.hint { color: #c62828; margin: .2rem 0; }
.note { color: #555; font-size: 12px; }
pre { white-space: pre-wrap; margin: .2rem 0; font-size: 12px; }
small { color: #666; }
`;

function throttleSection(b: EvidenceBundle, config: MeshgwConfig): { style: string; html: string } {
  const report = b.scenarios.find((s) => s.scenario === 'throttle');
  if (!b.throttle.available || !report) return { style: '', html: missing(b.throttle, 'The throttle charts') ?? '<p class="missing">The throttle charts: the throttle scenario did not run.</p>' };
  const embedded = embedPage(renderThrottleReportHtml(report, config), '#throttle-charts');
  if (!embedded) return { style: '', html: '<p class="missing">The throttle charts could not be drawn from this run.</p>' };
  return { style: embedded.style, html: `<div id="throttle-charts">${embedded.fragment}</div>` };
}

function traceSection(b: EvidenceBundle): { style: string; html: string } {
  const t = b.legitTrace;
  if (!t.available) return { style: '', html: missing(t, "The legit flow's trace")! };
  const embedded = embedPage(renderTraceHtml(t.trace), '#trace-waterfall');
  if (!embedded) return { style: '', html: '<p class="missing">The trace could not be drawn.</p>' };
  return { style: embedded.style, html: `<p>The request: ${esc(t.chosenBy)}.</p>\n<div id="trace-waterfall">${embedded.fragment}</div>` };
}

/** The whole report page from the bundle (the config only supplies the configured limits for the charts). */
export function renderEvidenceHtml(b: EvidenceBundle, config: MeshgwConfig): string {
  const throttle = throttleSection(b, config);
  const trace = traceSection(b);
  const verdict = b.verdict.ok ? 'PASS' : 'FAIL';
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>meshgw verify evidence: ${verdict} (${esc(b.target)}, ${esc(b.startedAt)})</title>
<style>${STYLE}
${throttle.style}
${trace.style}</style>
</head>
<body>
<h1>${b.verdict.ok ? '✔' : '✖'} meshgw verify: ${verdict} (${esc(b.target)})</h1>
<p>Evidence bundle ${esc(b.schema)}: ${b.scenarios.map((s) => esc(s.scenario)).join(', ') || 'no scenario'}; evidence.json beside this page holds the same facts.</p>
<section class="part" id="run"><h2>Run</h2>
${factsTable(b)}
</section>
<section class="part" id="throttle"><h2>Throttling against the token-bucket model</h2>
${throttle.html}
</section>
<section class="part" id="authz"><h2>Authorization matrix (mTLS)</h2>
${matrixTable(b.authzMatrix)}
</section>
<section class="part" id="refusals"><h2>Refusal and resilience counters, before and after</h2>
${refusalTable(b.refusals)}
</section>
<section class="part" id="trace"><h2>The legit flow's trace</h2>
${trace.html}
</section>
<section class="part" id="checks"><h2>Every check</h2>
${scenarioTables(b.scenarios)}
</section>
</body>
</html>
`;
}
