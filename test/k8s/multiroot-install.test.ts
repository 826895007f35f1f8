// The real istioctl (toolBin('istioctl'), .ci/setup.d/60-istioctl.sh) renders the install meshgw runs:
// its istiod Deployment must carry ISTIO_MULTIROOT_MESH=true, or `certs rotate-root` refuses to start.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { describe, it } from 'node:test';
import { parseAllDocuments } from 'yaml';
import { istioctlArgs } from '../../src/k8s/mesh-install.js';
import { istiodTrustsMultipleRoots } from '../../src/k8s/root-rotation.js';
import { toolBin } from '../support/tools.js';
import { repoConfig } from './fixtures.js';

const run = promisify(execFile);

/** The istiod Deployment `istioctl manifest generate` renders for the same --set flags as `install`. */
async function renderedIstiod(setArgs: string[]): Promise<object> {
  const { stdout } = await run(toolBin('istioctl'), ['manifest', 'generate', ...setArgs], { maxBuffer: 64 * 1024 * 1024 });
  const docs = parseAllDocuments(stdout).map((d) => d.toJS() as { kind?: string; metadata?: { name?: string }; spec?: unknown } | null);
  const istiod = docs.find((d) => d?.kind === 'Deployment' && d.metadata?.name === 'istiod');
  assert.ok(istiod, 'istioctl rendered an istiod Deployment');
  return istiod;
}

describe("meshgw's Istio install", { timeout: 60_000 }, () => {
  it('runs istiod with ISTIO_MULTIROOT_MESH=true, so two overlapping roots are both trusted', async () => {
    const args = istioctlArgs(repoConfig());
    assert.deepEqual(args.slice(0, 2), ['install', '-y']);
    assert.equal(istiodTrustsMultipleRoots(await renderedIstiod(args.slice(2))), true);
  });

  it('tells an istiod installed without it apart', async () => {
    assert.equal(istiodTrustsMultipleRoots(await renderedIstiod(['--set', 'profile=minimal'])), false);
  });
});
