import type { CheckOutcome, ScenarioReport } from './checks.js';

const MARK: Record<CheckOutcome['status'], string> = { pass: '✔', warn: '⚠', fail: '✖', skip: '–' };

/** One line per check, as printed while a scenario runs. */
export function renderOutcomeLine(o: CheckOutcome): string {
  const head = `${MARK[o.status]} ${o.title}`;
  const lines = [`${head}  ${o.detail}`];
  if ((o.status === 'fail' || o.status === 'warn') && o.hint) lines.push(`    hint: ${o.hint}`);
  return lines.join('\n');
}

export function renderScenario(report: ScenarioReport): string {
  const lines = [`${report.scenario} (${report.target})`];
  for (const o of report.checks) lines.push('  ' + renderOutcomeLine(o).replace(/\n/g, '\n  '));
  const passed = report.checks.filter((c) => c.status === 'pass' || c.status === 'warn').length;
  const warnings = report.checks.filter((c) => c.status === 'warn').length;
  const warned = warnings > 0 ? `, ${warnings} with a warning` : '';
  const skipped = report.checks.filter((c) => c.status === 'skip').length;
  const notRun = skipped > 0 ? `, ${skipped} not run` : '';
  lines.push(`  ${report.ok ? 'PASS' : 'FAIL'}: ${passed}/${report.checks.length} checks passed${warned}${notRun}`);
  return lines.join('\n');
}

/** A fixed-width table; columns sized to their widest cell. */
export function renderTable(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const fmt = (cells: string[]) => cells.map((c, i) => (c ?? '').padEnd(widths[i])).join('  ').trimEnd();
  return [fmt(header), fmt(widths.map((w) => '-'.repeat(w))), ...rows.map(fmt)].join('\n');
}
