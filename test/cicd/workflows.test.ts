// The GitHub Actions workflows: actionlint (with shellcheck on every `run:`) finds nothing, and the
// properties a user relies on hold — CI is exactly .ci/run, the deploy job is approved by a person, gets
// short-lived credentials through OIDC only, and keeps the verify results even when verify fails.
import assert from 'node:assert/strict';
import { access, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'node:test';
import { execa } from 'execa';
import { parse } from 'yaml';
import { toolBin } from '../support/tools.js';

const root = fileURLToPath(new URL('../../../', import.meta.url));
const workflowsDir = path.join(root, '.github/workflows');
const actionlint = toolBin('actionlint');

interface Step {
  name?: string;
  uses?: string;
  run?: string;
  if?: string;
  id?: string;
  with?: Record<string, unknown>;
  env?: Record<string, string>;
}
interface Job {
  uses?: string;
  needs?: string | string[];
  environment?: string | { name: string };
  permissions?: Record<string, string>;
  steps?: Step[];
}
interface Workflow {
  on: Record<string, unknown>;
  permissions?: Record<string, string>;
  jobs: Record<string, Job>;
}

async function workflowText(file: string): Promise<string> {
  return readFile(path.join(workflowsDir, file), 'utf8');
}

async function workflow(file: string): Promise<Workflow> {
  return parse(await workflowText(file)) as Workflow;
}

async function requireActionlint(): Promise<void> {
  try {
    await access(actionlint);
  } catch {
    assert.fail(`${actionlint} is missing: run \`bash .ci/setup.d/40-actionlint.sh\` (npm test's pretest runs it)`);
  }
}

function stepIndex(steps: Step[], predicate: (s: Step) => boolean, what: string): number {
  const i = steps.findIndex(predicate);
  assert.ok(i >= 0, `no step ${what}`);
  return i;
}

const runs = (fragment: string) => (s: Step) => typeof s.run === 'string' && s.run.includes(fragment);

describe('GitHub Actions workflows', () => {
  it('pass actionlint, shellcheck included, with no findings', async () => {
    await requireActionlint();
    const files = ['ci.yml', 'deploy.yml'].map((f) => path.join(workflowsDir, f));
    const r = await execa(actionlint, ['-no-color', ...files], { reject: false, timeout: 60_000, cwd: root });
    assert.equal(r.exitCode, 0, `actionlint found problems:\n${r.stdout}\n${r.stderr}`);
  });

  it('are really linted: actionlint rejects a workflow with an unquoted variable and an unknown expression', async () => {
    await requireActionlint();
    const dir = await mkdtemp(path.join(tmpdir(), 'meshgw-actionlint-'));
    try {
      const bad = path.join(dir, 'bad.yml');
      await writeFile(
        bad,
        'on: push\njobs:\n  x:\n    runs-on: ubuntu-24.04\n    steps:\n      - run: echo ${{ github.nonexistent }}\n      - run: cp $SRC $DST\n',
      );
      const r = await execa(actionlint, ['-no-color', bad], { reject: false, timeout: 60_000 });
      assert.equal(r.exitCode, 1, `expected findings, got exit ${r.exitCode}: ${r.stdout}${r.stderr}`);
      assert.match(r.stdout, /nonexistent/);
      assert.match(r.stdout, /shellcheck reported issue/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('pin every action to a major version tag', async () => {
    for (const file of ['ci.yml', 'deploy.yml']) {
      const wf = await workflow(file);
      for (const [name, job] of Object.entries(wf.jobs)) {
        for (const step of job.steps ?? []) {
          if (step.uses === undefined) continue;
          assert.match(step.uses, /^[A-Za-z0-9-]+\/[A-Za-z0-9-]+@v\d+$/, `${file} job ${name}: ${step.uses}`);
        }
      }
    }
  });

  it('hold no long-lived AWS keys: no access key inputs and no AWS secrets anywhere', async () => {
    for (const file of ['ci.yml', 'deploy.yml']) {
      const text = await workflowText(file);
      assert.doesNotMatch(text, /aws-access-key-id|aws-secret-access-key|AWS_ACCESS_KEY_ID|AWS_SECRET_ACCESS_KEY/i, file);
      assert.doesNotMatch(text, /secrets\./, `${file} reads a secret`);
    }
  });

  it('never run `npx meshgw`, which would fetch a registry package of that name instead of this checkout', async () => {
    for (const file of ['ci.yml', 'deploy.yml']) {
      for (const job of Object.values((await workflow(file)).jobs)) {
        for (const step of job.steps ?? []) assert.doesNotMatch(step.run ?? '', /npx\s+meshgw/, `${file}: ${step.name}`);
      }
    }
  });
});

describe('ci.yml', () => {
  it('runs on pull requests and pushes to main, and can be called by the deploy workflow', async () => {
    const wf = await workflow('ci.yml');
    assert.ok('pull_request' in wf.on);
    assert.deepEqual((wf.on.push as { branches: string[] }).branches, ['main']);
    assert.ok('workflow_call' in wf.on);
  });

  it('reads the repository and nothing more', async () => {
    const wf = await workflow('ci.yml');
    assert.deepEqual(wf.permissions, { contents: 'read' });
    for (const job of Object.values(wf.jobs)) assert.equal(job.permissions, undefined, 'no job widens the permissions');
  });

  it('sets up Node 20 with the npm cache and Python 3.11 with the pip cache, then runs .ci/run (npm ci && npm test)', async () => {
    const steps = (await workflow('ci.yml')).jobs.test.steps ?? [];
    const node = steps[stepIndex(steps, (s) => s.uses?.startsWith('actions/setup-node@') ?? false, 'setting up Node')];
    assert.equal(String(node.with?.['node-version']), '20');
    assert.equal(node.with?.cache, 'npm');
    const python = steps[stepIndex(steps, (s) => s.uses?.startsWith('actions/setup-python@') ?? false, 'setting up Python')];
    assert.equal(python.with?.['python-version'], '3.11');
    assert.equal(python.with?.cache, 'pip');
    const checkout = stepIndex(steps, (s) => s.uses?.startsWith('actions/checkout@') ?? false, 'checking out');
    const test = stepIndex(steps, runs('.ci/run'), 'running .ci/run');
    assert.ok(checkout < test && steps.indexOf(node) < test && steps.indexOf(python) < test, 'set-up steps come before the tests');
    const ciRun = await readFile(path.join(root, '.ci/run'), 'utf8');
    assert.match(ciRun, /^npm ci && npm test$/m, '.ci/run is still `npm ci && npm test`');
  });
});

describe('deploy.yml', () => {
  it('runs on pushes to main and by hand, and only after the tests pass', async () => {
    const wf = await workflow('deploy.yml');
    assert.deepEqual((wf.on.push as { branches: string[] }).branches, ['main']);
    assert.ok('workflow_dispatch' in wf.on);
    assert.equal(wf.jobs.test.uses, './.github/workflows/ci.yml');
    assert.deepEqual([wf.jobs.deploy.needs].flat(), ['test']);
  });

  it('deploys in the protected production environment with id-token: write and contents: read only', async () => {
    const wf = await workflow('deploy.yml');
    assert.deepEqual(wf.permissions, {}, 'nothing by default at the top');
    const job = wf.jobs.deploy;
    const env = typeof job.environment === 'string' ? job.environment : job.environment?.name;
    assert.equal(env, 'production');
    assert.deepEqual(job.permissions, { 'id-token': 'write', contents: 'read' });
    assert.deepEqual(wf.jobs.test.permissions, { contents: 'read' });
  });

  it('assumes the role from MESHGW_DEPLOY_ROLE_ARN through OIDC, in the AWS_REGION variable or meshgw.yaml region', async () => {
    const steps = (await workflow('deploy.yml')).jobs.deploy.steps ?? [];
    const creds = steps[stepIndex(steps, (s) => s.uses?.startsWith('aws-actions/configure-aws-credentials@') ?? false, 'assuming the role')];
    assert.equal(creds.with?.['role-to-assume'], '${{ vars.MESHGW_DEPLOY_ROLE_ARN }}');
    assert.equal(creds.with?.['aws-region'], '${{ env.AWS_REGION }}');
    const region = steps[stepIndex(steps, runs('AWS_REGION='), 'choosing the region')];
    assert.equal(region.env?.REGION_VARIABLE, '${{ vars.AWS_REGION }}');
    assert.ok(steps.indexOf(region) < steps.indexOf(creds));
  });

  it('stands the target up in order: up, kubeconfig, push, deploy, verify', async () => {
    const steps = (await workflow('deploy.yml')).jobs.deploy.steps ?? [];
    const creds = stepIndex(steps, (s) => s.uses?.startsWith('aws-actions/configure-aws-credentials@') ?? false, 'assuming the role');
    const istio = stepIndex(steps, runs('https://istio.io/downloadIstio'), 'installing istioctl');
    const up = stepIndex(steps, runs('meshgw up --target aws --yes'), 'running meshgw up');
    const kubeconfig = stepIndex(steps, runs('aws eks update-kubeconfig --name'), 'updating the kubeconfig');
    const push = stepIndex(steps, runs('meshgw push'), 'running meshgw push');
    const deploy = stepIndex(steps, runs('meshgw deploy'), 'running meshgw deploy');
    const verify = stepIndex(steps, runs('meshgw verify all --target aws'), 'running meshgw verify');
    assert.deepEqual(
      [creds, up, kubeconfig, push, deploy, verify].map((i) => i),
      [creds, up, kubeconfig, push, deploy, verify].sort((a, b) => a - b),
      'steps out of order',
    );
    assert.ok(istio < deploy, 'istioctl is there before meshgw deploy needs it');
  });

  it('uploads verify.json, the throttle chart and the evidence bundle even when verify fails', async () => {
    const steps = (await workflow('deploy.yml')).jobs.deploy.steps ?? [];
    const verify = steps[stepIndex(steps, runs('meshgw verify all'), 'running verify')];
    assert.match(verify.run ?? '', /--output json/);
    assert.match(verify.run ?? '', /--report throttle\.html/);
    assert.match(verify.run ?? '', />\s*verify\.json/);
    assert.match(verify.run ?? '', /--evidence evidence\/(\s|$)/);
    const upload = steps[stepIndex(steps, (s) => s.uses?.startsWith('actions/upload-artifact@') ?? false, 'uploading artifacts')];
    assert.equal(upload.if, 'always()');
    const paths = String(upload.with?.path).split('\n').map((p) => p.trim()).filter(Boolean);
    assert.deepEqual(paths.sort(), ['evidence/', 'throttle.html', 'verify.json']);
    assert.ok(steps.indexOf(upload) > steps.indexOf(verify));
  });

  it('reads only settings that pipeline-settings-main prints', async () => {
    const text = await workflowText('deploy.yml');
    const used = [...text.matchAll(/steps\.settings\.outputs\.([a-z_]+)/g)].map((m) => m[1]);
    assert.ok(used.length >= 3, 'the workflow reads its settings');
    const r = await execa(process.execPath, [path.join(root, 'dist/src/cicd/pipeline-settings-main.js'), path.join(root, 'meshgw.yaml')], { reject: false, timeout: 30_000 });
    assert.equal(r.exitCode, 0, r.stderr);
    const printed = new Set(r.stdout.split('\n').filter(Boolean).map((l) => l.split('=')[0]));
    for (const key of used) assert.ok(printed.has(key), `deploy.yml reads steps.settings.outputs.${key}, which is never printed`);
  });
});
