import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { describe, it } from 'node:test';
import { renderForDeploy } from '../../src/k8s/deploy.js';
import { manifestsToYaml } from '../../src/k8s/manifests/index.js';
import { repoConfig } from './fixtures.js';

describe('manifests/example.yaml', () => {
  it('is what the renderers produce today for the repository config (regenerate it when they change)', async () => {
    const file = await readFile(new URL('../../../manifests/example.yaml', import.meta.url), 'utf8');
    const body = file.split('\n').filter((l, i, all) => !(l.startsWith('#') && all.slice(0, i).every((p) => p.startsWith('#')))).join('\n');
    const config = repoConfig();
    const images = Object.fromEntries(Object.keys(config.services).map((s) => [s, `meshgw-${s}:not-pushed-yet`]));
    const rendered = manifestsToYaml(renderForDeploy({ config, images, ingressNodePort: config.aws.ingressNodePort, tokenSecret: 'dry-run' }));
    assert.equal(body.trimEnd(), rendered.trimEnd());
  });
});
