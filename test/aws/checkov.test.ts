// checkov (the real scanner, from the Python tools' venv, run offline with --skip-download) on both
// CloudFormation templates: the meshgw stack as rendered for the repository's meshgw.yaml, its base
// template, and the GitHub OIDC deploy role. Zero failed checks; every suppression sits in the template
// (Metadata checkov.skip) with a one-line reason, which this test also demands.
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'node:test';
import { execa } from 'execa';
import { loadBaseTemplate, renderTemplate } from '../../src/aws/template.js';
import { parseConfigText } from '../../src/config/load.js';
import { venvBin } from '../support/tools.js';

const root = fileURLToPath(new URL('../../../', import.meta.url));

interface CheckovCheck {
  check_id: string;
  resource: string;
  suppress_comment?: string;
}
interface CheckovReport {
  results: { failed_checks: CheckovCheck[]; skipped_checks?: CheckovCheck[]; passed_checks?: CheckovCheck[] };
  summary: { passed: number; failed: number; skipped: number; parsing_errors: number };
}

/** Runs checkov on one CloudFormation file, offline, and returns its JSON report. */
async function checkov(file: string): Promise<CheckovReport> {
  // --skip-download: no call to Prisma Cloud for guidelines or policies (the suite runs offline).
  const r = await execa(venvBin('checkov'), ['-f', file, '--framework', 'cloudformation', '--skip-download', '--quiet', '-o', 'json'], {
    reject: false,
    timeout: 180_000,
  });
  // Exit 1 means failed checks; anything else (2: crash, bad arguments) is the tool failing.
  assert.ok(r.exitCode === 0 || r.exitCode === 1, `checkov ran (exit ${r.exitCode}): ${r.stderr.slice(-2000)}`);
  const report = JSON.parse(r.stdout) as CheckovReport | CheckovReport[];
  const one = Array.isArray(report) ? report.find((x) => (x as { check_type?: string }).check_type === 'cloudformation') : report;
  assert.ok(one?.summary, `checkov reported on ${file}: ${r.stdout.slice(0, 500)}`);
  assert.equal(one.summary.parsing_errors, 0, `checkov parsed ${file}`);
  return one;
}

async function withFile<T>(body: string, run: (file: string) => Promise<T>): Promise<T> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'meshgw-checkov-'));
  try {
    const file = path.join(dir, 'stack.yaml');
    await writeFile(file, body);
    return await run(file);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

function failures(report: CheckovReport): string[] {
  return report.results.failed_checks.map((c) => `${c.check_id} ${c.resource}`);
}

function assertSkipsAreExplained(report: CheckovReport): void {
  for (const s of report.results.skipped_checks ?? []) {
    assert.ok(s.suppress_comment && s.suppress_comment !== 'No comment provided' && s.suppress_comment.length > 20, `${s.check_id} on ${s.resource} says why it is skipped`);
  }
}

async function repoConfig() {
  return parseConfigText(await readFile(path.join(root, 'meshgw.yaml'), 'utf8'), 'meshgw.yaml');
}

describe('checkov on the CloudFormation templates', { timeout: 600_000 }, () => {
  it('finds nothing to fix in the meshgw stack rendered for the repository meshgw.yaml', async () => {
    const { body } = renderTemplate(await repoConfig(), await loadBaseTemplate());
    const report = await withFile(body, checkov);
    assert.deepEqual(failures(report), []);
    assert.ok(report.summary.passed > 50, `checks ran: ${report.summary.passed} passed`);
    assertSkipsAreExplained(report);
  });

  it('finds nothing to fix in the base template and in the GitHub OIDC deploy role template', async () => {
    for (const file of ['templates/meshgw-stack.yaml', 'templates/github-oidc.yaml']) {
      const report = await checkov(path.join(root, file));
      assert.deepEqual(failures(report), [], file);
      assertSkipsAreExplained(report);
    }
  });

  it('fails a template whose suppression is removed, so the zero above is checkov’s own verdict', async () => {
    const { template } = renderTemplate(await repoConfig(), await loadBaseTemplate());
    delete template.Resources.Nlb.Metadata;
    template.Resources.NodeLaunchTemplate.Properties!.LaunchTemplateData = {
      ...(template.Resources.NodeLaunchTemplate.Properties!.LaunchTemplateData as object),
      MetadataOptions: { HttpTokens: 'optional' },
    };
    const { stringify } = await import('yaml');
    const report = await withFile(stringify(template, { version: '1.1', lineWidth: 0, aliasDuplicateObjects: false }), checkov);
    const failed = failures(report);
    assert.ok(failed.includes('CKV_AWS_91 AWS::ElasticLoadBalancingV2::LoadBalancer.Nlb'), failed.join('\n'));
    assert.ok(failed.some((f) => f.startsWith('CKV_AWS_79 ')), `IMDSv1 allowed is flagged: ${failed.join('\n')}`);
  });
});
