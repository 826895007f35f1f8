// Real component: istioctl (built by .ci/setup.d/60-istioctl.sh), run offline: `istioctl manifest generate` with
// the flags deploy passes to `istioctl install` renders the `istio` ConfigMap istiod reads, so the mesh config the
// cluster would run is the one checked here. Helm is not installed here: its arguments are checked as text
// (helm's --set splits on unescaped commas, the reason for the escaping).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { execa } from 'execa';
import { parse, parseAllDocuments } from 'yaml';
import type { MeshgwConfig } from '../../src/config/schema.js';
import { trafficPolicySchema } from '../../src/config/traffic-policy.js';
import type { K8sObject } from '../../src/k8s/manifests/index.js';
import { RETRY_ON_UNPROCESSED } from '../../src/k8s/manifests/resilience.js';
import { defaultHttpRetryPolicy, helmCommands, istioctlArgs } from '../../src/k8s/mesh-install.js';
import { toolBin } from '../support/tools.js';
import { repoConfig } from './fixtures.js';

async function meshConfigOf(cfg: MeshgwConfig): Promise<{ defaultHttpRetryPolicy?: { attempts?: number; retryOn?: string } }> {
  const r = await execa(toolBin('istioctl'), ['manifest', 'generate', ...istioctlArgs(cfg).slice(2)], { reject: false, timeout: 120_000, env: { KUBECONFIG: '/nonexistent/kubeconfig' } });
  assert.equal(r.exitCode, 0, r.stderr);
  const istio = parseAllDocuments(r.stdout).map((d) => d.toJS() as K8sObject | null).find((o) => o?.kind === 'ConfigMap' && o.metadata.name === 'istio');
  assert.ok(istio, 'manifest generate renders the istio ConfigMap');
  return parse((istio.data as { mesh: string }).mesh) as { defaultHttpRetryPolicy?: { attempts?: number; retryOn?: string } };
}

function withAttempts(cfg: MeshgwConfig, service: string, attempts: number): MeshgwConfig {
  return { ...cfg, services: { ...cfg.services, [service]: { ...cfg.services[service], trafficPolicy: trafficPolicySchema.parse({ retries: { attempts } }) } } };
}

describe("the mesh's default HTTP retry policy (the ingress HTTPRoutes' retries)", () => {
  it('retries only requests that never reached the app, as many times as the repo config allows, in the mesh config istiod reads', async () => {
    const mesh = await meshConfigOf(repoConfig());
    assert.deepEqual(mesh.defaultHttpRetryPolicy, { attempts: 2, retryOn: 'connect-failure,refused-stream' });
    // No 5xx or reset: a POST /orders through the ingress must never be placed twice.
    assert.doesNotMatch(mesh.defaultHttpRetryPolicy!.retryOn!, /5xx|reset|503|retriable-status-codes|gateway-error/);
  });

  it('takes the strictest service: one service with retries off turns the mesh default off', async () => {
    const cfg = withAttempts(repoConfig(), 'products', 0);
    assert.deepEqual(defaultHttpRetryPolicy(cfg), { attempts: 0 });
    assert.deepEqual((await meshConfigOf(cfg)).defaultHttpRetryPolicy, { attempts: 0 });
    assert.deepEqual(defaultHttpRetryPolicy(withAttempts(repoConfig(), 'users', 1)), { attempts: 1, retryOn: RETRY_ON_UNPROCESSED });
  });

  it("escapes the comma for helm's --set, which would otherwise split retryOn in two", () => {
    const istiod = helmCommands(repoConfig()).find((c) => c.includes('istiod'))!;
    assert.ok(istiod.includes('meshConfig.defaultHttpRetryPolicy.retryOn=connect-failure\\,refused-stream'), istiod.join(' '));
    assert.ok(istiod.includes('meshConfig.defaultHttpRetryPolicy.attempts=2'));
  });
});
