import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'node:test';
import { execa } from 'execa';
import { formatGithubOutput, pipelineSettings } from '../../src/cicd/pipeline-settings.js';
import { parseConfigText } from '../../src/config/load.js';
import { MeshgwError } from '../../src/errors.js';

const root = fileURLToPath(new URL('../../../', import.meta.url));
const entry = path.join(root, 'dist/src/cicd/pipeline-settings-main.js');

describe('pipeline settings', () => {
  it('takes the stack, cluster, region and Istio version from meshgw.yaml', () => {
    const cfg = parseConfigText('version: 1\nservices:\n  users: { pathPrefix: /users, requireApiKey: false }\naws:\n  stackName: shop\n  clusterName: shop-eks\n  region: eu-west-1\n  istioVersion: 1.27.3\n', 'm.yaml');
    assert.deepEqual(pipelineSettings(cfg), { stack_name: 'shop', cluster_name: 'shop-eks', region: 'eu-west-1', istio_version: '1.27.3', state_dir: '.meshgw' });
  });

  it('formats workflow outputs as key=value lines', () => {
    assert.equal(formatGithubOutput({ a: 'x', b: 2 }), 'a=x\nb=2\n');
  });

  it('refuses a value with a line break, which would forge another output', () => {
    assert.throws(() => formatGithubOutput({ a: 'x\nrole=evil' }), (err: unknown) => err instanceof MeshgwError && /a: a line break/.test(err.message));
  });

  it('prints the repository meshgw.yaml settings from the entry the deploy workflow runs', async () => {
    const r = await execa(process.execPath, [entry, path.join(root, 'meshgw.yaml')], { reject: false, timeout: 30_000, stripFinalNewline: false });
    assert.equal(r.exitCode, 0, r.stderr);
    const cfg = parseConfigText(await readFile(path.join(root, 'meshgw.yaml'), 'utf8'), 'meshgw.yaml');
    assert.equal(r.stdout, formatGithubOutput(pipelineSettings(cfg)));
    assert.match(r.stdout, /^istio_version=\d+\.\d+\.\d+$/m);
  });

  it('exits 2 and names the field when meshgw.yaml is invalid', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'meshgw-settings-'));
    try {
      const file = path.join(dir, 'meshgw.yaml');
      await writeFile(file, 'version: 1\nservices:\n  users: { pathPrefix: /users, requireApiKey: false }\naws:\n  istioVersion: latest\n');
      const r = await execa(process.execPath, [entry, file], { reject: false, timeout: 30_000 });
      assert.equal(r.exitCode, 2);
      assert.equal(r.stdout, '', 'nothing reaches $GITHUB_OUTPUT');
      assert.match(r.stderr, /aws\.istioVersion/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
