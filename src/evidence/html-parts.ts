/** The evidence report's own tables: facts, the authorization matrix, the counters, every check. */
import { escapeHtml } from '../trace/html.js';
import type { CheckOutcome, ScenarioReport } from '../verify/checks.js';
import type { EvidenceBundle, Part } from './types.js';

export const esc = (v: unknown): string => escapeHtml(v === undefined || v === null ? '' : String(v));

const MARK: Record<CheckOutcome['status'], string> = { pass: '✔', warn: '⚠', fail: '✖', skip: '–' };

/** Where a part of the bundle is missing for this run: the reason, in place. */
export function missing(part: Part<object>, what: string): string | undefined {
  return part.available ? undefined : `<p class="missing">${esc(what)}: not available in this run: ${esc(part.reason)}</p>`;
}

export function factsTable(b: EvidenceBundle): string {
  const istio = b.versions.istio.version ? `${b.versions.istio.version} (${b.versions.istio.note})` : b.versions.istio.note;
  const rows: [string, string, string][] = [
    ['verdict', 'verdict', `${b.verdict.ok ? 'PASS' : 'FAIL'}${b.verdict.warnings ? ` (${b.verdict.warnings} warning${b.verdict.warnings === 1 ? '' : 's'}, --fail-on ${b.verdict.failOn})` : ''}`],
    ['target', 'target', b.target],
    ['started', 'started', b.startedAt],
    ['ended', 'ended', b.endedAt],
    ['meshgw', 'meshgw-version', b.versions.meshgw],
    ['Node.js', 'node-version', b.versions.node],
    ['Istio', 'istio-version', istio],
    ['config file', 'config-file', b.config.file],
    [`config fingerprint (${b.config.algorithm})`, 'config-fingerprint', b.config.value],
  ];
  const body = rows.map(([k, id, v]) => `<tr><th>${esc(k)}</th><td id="${id}"${id === 'config-fingerprint' ? ' class="mono"' : ''}>${esc(v)}</td></tr>`).join('\n');
  return `<table id="facts">\n${body}\n</table>\n<p class="note">Fingerprint: ${esc(b.config.canonical)}.</p>`;
}

export function matrixTable(m: EvidenceBundle['authzMatrix']): string {
  if (!m.available) return missing(m, 'The authorization matrix')!;
  const head = `<tr><th>caller \\ service</th>${m.services.map((s) => `<th scope="col" data-service="${esc(s)}">${esc(s)}</th>`).join('')}</tr>`;
  const rows = m.callers.map((caller) => {
    const cells = m.services.map((service) => {
      const c = m.cells.find((x) => x.caller === caller && x.callee === service);
      if (!c) return '<td class="absent">not probed</td>';
      const match = c.observed === c.expected;
      const counted = c.counted === undefined ? '' : c.counted ? '' : ' (not counted)';
      return `<td class="${match ? 'match' : 'differs'}" data-expected="${esc(c.expected)}" data-observed="${esc(c.observed)}" title="${esc(c.evidence)}">${esc(c.observed)} ${match ? '✔' : `✖ expected ${esc(c.expected)}`}${esc(counted)}<br><small>${esc(c.evidence)}</small></td>`;
    });
    return `<tr data-caller="${esc(caller)}"><th scope="row">${esc(caller)}</th>${cells.join('')}</tr>`;
  });
  const differ = m.cells.filter((c) => c.observed !== c.expected).length;
  return `<p>${m.cells.length} pairs; ${differ === 0 ? 'every one as the authorization table says' : `${differ} differ from the authorization table`}. Expected from meshgw.yaml's authorization table, observed as one real mTLS request per pair.</p>
<table id="authz-matrix" class="grid"><thead>${head}</thead><tbody>
${rows.join('\n')}
</tbody></table>`;
}

const count = (n: number | null) => (n === null ? '–' : String(n));

export function refusalTable(r: EvidenceBundle['refusals']): string {
  if (!r.available) return missing(r, 'The refusal counters')!;
  const rows = r.rows.map(
    (x) =>
      `<tr class="${esc(x.status)}"><td>${esc(x.scenario)}</td><td>${MARK[x.status as CheckOutcome['status']] ?? ''} ${esc(x.title)}</td><td>${esc(x.target ?? '')}</td><td class="mono nowrap">${esc(x.counter)}</td><td class="num">${count(x.before)}</td><td class="num">${count(x.after)}</td><td class="num">${x.delta === null ? '–' : `${x.delta >= 0 ? '+' : ''}${x.delta}`}</td></tr>`,
  );
  return `<table id="refusal-counters" class="grid"><thead><tr><th>scenario</th><th>check</th><th>workload</th><th>counter</th><th class="num">before</th><th class="num">after</th><th class="num">change</th></tr></thead><tbody>
${rows.join('\n')}
</tbody></table>`;
}

function checkRow(c: CheckOutcome): string {
  const data = c.data ? `<details><summary>data</summary><pre>${esc(JSON.stringify(c.data, null, 2))}</pre></details>` : '';
  return `<tr class="${esc(c.status)}" data-check="${esc(c.id)}"><td class="mark">${MARK[c.status]}</td><td>${esc(c.status)}</td><td><b>${esc(c.title)}</b> <small class="mono">${esc(c.id)}</small><pre>${esc(c.detail)}</pre>${c.hint ? `<p class="hint">hint: ${esc(c.hint)}</p>` : ''}${data}</td><td class="num">${c.durationMs} ms</td></tr>`;
}

export function scenarioTables(scenarios: ScenarioReport[]): string {
  if (scenarios.length === 0) return '<p class="missing">No scenario ran.</p>';
  return scenarios
    .map((s) => `<h3 id="scenario-${esc(s.scenario)}">${s.ok ? '✔' : '✖'} ${esc(s.scenario)} (${esc(s.target)}): ${s.ok ? 'PASS' : 'FAIL'}</h3>
<table class="grid checks"><thead><tr><th></th><th>status</th><th>check</th><th class="num">time</th></tr></thead><tbody>
${s.checks.map(checkRow).join('\n')}
</tbody></table>`)
    .join('\n');
}
