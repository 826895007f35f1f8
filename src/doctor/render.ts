import type { DoctorReport } from './command.js';

const MARK = { ok: '✔', error: '✖', warning: '!', skipped: '–' } as const;

export function renderDoctorReport(report: DoctorReport): string {
  const lines = [`meshgw doctor (aws, ${report.region})`];
  for (const f of report.findings) {
    lines.push(`  ${MARK[f.level]} ${f.title}`, `      ${f.detail}`);
    if (f.level !== 'ok' && f.hint) lines.push(`      fix: ${f.hint}`);
  }
  const errors = report.findings.filter((f) => f.level === 'error').length;
  const warnings = report.findings.filter((f) => f.level === 'warning').length;
  lines.push(report.ok ? `  ready for \`meshgw up --target aws\`${warnings ? ` (${warnings} warning(s))` : ''}` : `  ${errors} finding(s) to fix before \`meshgw up --target aws\``);
  return lines.join('\n');
}
