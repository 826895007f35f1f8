// Real components: a REAL kube-apiserver (+ etcd) with the upstream Istio 1.28.0 CRDs installed
// (test/support/real-cluster.ts): the EnvoyFilter verify resilience renders must pass the real CRD schema and
// its CEL rules; labelling and unlabelling a pod (server-side apply with meshgw's fault field manager) and
// deleting a pod with gracePeriodSeconds 0 are real API calls on real Pod objects. No kubelet runs, so the pods
// are created bound to a node name with the status a kubelet would write; a bound pod's normal deletion waits
// for its kubelet, which is what makes grace 0 observable here. istioctl (offline) runs `analyze` and
// `validate` on the rendered EnvoyFilter.
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { CoreV1Api } from '@kubernetes/client-node';
import { execa } from 'execa';
import { stringify } from 'yaml';
import { createClusterApi } from '../../src/k8s/client.js';
import type { ClusterApi } from '../../src/k8s/cluster.js';
import { FAULT_TARGET_LABEL, faultFilterName, injectPodFault, renderFaultFilter, withPodFault } from '../../src/verify/aws/pod-faults.js';
import { createResilienceCluster, type ResilienceCluster } from '../../src/verify/aws/resilience-context.js';
import { ISTIO_CRD_FILE } from '../support/real-crds.js';
import { startRealCluster, type RealCluster } from '../support/real-cluster.js';
import { toolBin } from '../support/tools.js';
import { missingPaths } from '../k8s/fixtures.js';

const NS = 'meshgw';
let cluster: RealCluster;
let api: ClusterApi;
let rc: ResilienceCluster;
let core: CoreV1Api;

const noExec = async () => assert.fail('no kubelet: exec is not part of these tests');

before(async () => {
  cluster = await startRealCluster({ crds: true });
  api = createClusterApi(cluster.kubeConfig);
  rc = createResilienceCluster(api, cluster.kubeConfig, noExec);
  core = cluster.kubeConfig.makeApiClient(CoreV1Api);
  await api.apply({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: NS } });
});
after(async () => {
  await cluster?.stop();
});

/** A Running, Ready pod of `app` bound to a node, as the scheduler and a kubelet would leave it. */
async function runningPod(name: string, app: string, ip: string): Promise<void> {
  const created = await core.createNamespacedPod({
    namespace: NS,
    body: { apiVersion: 'v1', kind: 'Pod', metadata: { name, labels: { 'app.kubernetes.io/name': app } }, spec: { nodeName: 'node-a', containers: [{ name: 'app', image: 'example.invalid/app:test' }] } },
  });
  created.status = { phase: 'Running', podIP: ip, conditions: [{ type: 'Ready', status: 'True' }] };
  await core.replaceNamespacedPodStatus({ name, namespace: NS, body: created });
}

const filterRef = (runId: string) => ({ apiVersion: 'networking.istio.io/v1alpha3', kind: 'EnvoyFilter', metadata: { name: faultFilterName(runId), namespace: NS } });
const labelsOf = async (pod: string) => ((await api.read({ apiVersion: 'v1', kind: 'Pod', metadata: { name: pod, namespace: NS } }))?.metadata.labels ?? {}) as Record<string, string>;

describe('the fault filter on the real CRD schema', () => {
  it('is accepted as rendered, delay and abort, and stored with every field sent (typed_config included)', async () => {
    for (const [runId, fault] of [['d1', { delayMs: 300, percent: 100 }], ['a1', { abortStatus: 503, percent: 100 }]] as const) {
      const filter = renderFaultFilter({ namespace: NS, runId }, fault);
      const stored = await api.apply(filter);
      assert.deepEqual(missingPaths(filter.spec, stored.spec), []);
      await rc.delete(filterRef(runId));
    }
  });

  it('is refused by the CRD when the patch names an unknown context or the selector a wildcard, so the acceptance above means something', async () => {
    const bad = renderFaultFilter({ namespace: NS, runId: 'bad' }, { abortStatus: 503, percent: 100 });
    (bad.spec as { configPatches: { match: { context: string } }[] }).configPatches[0].match.context = 'SIDECAR_INBUND';
    await assert.rejects(api.apply(bad), /SIDECAR_INBUND|Unsupported value/);
    const wild = renderFaultFilter({ namespace: NS, runId: 'wild' }, { abortStatus: 503, percent: 100 });
    (wild.spec as { workloadSelector: { labels: Record<string, string> } }).workloadSelector.labels[FAULT_TARGET_LABEL] = '*';
    await assert.rejects(api.apply(wild), /wildcard is not supported/);
  });
});

describe('injecting a fault into one pod', () => {
  it('labels only that pod and applies the filter; cleanup removes both and keeps the pod`s own labels', async () => {
    await runningPod('users-a', 'users', '10.0.0.1');
    await runningPod('users-b', 'users', '10.0.0.2');
    const cleanup = await injectPodFault(rc, { namespace: NS, pods: ['users-b'], runId: 'r1' }, { abortStatus: 503, percent: 100 });
    assert.equal((await labelsOf('users-b'))[FAULT_TARGET_LABEL], 'r1');
    assert.equal((await labelsOf('users-a'))[FAULT_TARGET_LABEL], undefined);
    const filter = await api.read(filterRef('r1'));
    assert.deepEqual((filter?.spec as { workloadSelector: unknown }).workloadSelector, { labels: { [FAULT_TARGET_LABEL]: 'r1' } });
    assert.deepEqual(await cleanup(), []);
    assert.equal(await api.read(filterRef('r1')), undefined);
    assert.deepEqual(await labelsOf('users-b'), { 'app.kubernetes.io/name': 'users' });
  });

  it('removes the filter and the label when the check throws', async () => {
    await assert.rejects(
      withPodFault(rc, { namespace: NS, pods: ['users-b'], runId: 'r2' }, { delayMs: 200, percent: 100 }, async () => {
        assert.ok(await api.read(filterRef('r2')), 'the filter is in place while the check runs');
        throw new Error('the load generator crashed');
      }),
      /the load generator crashed/,
    );
    assert.equal(await api.read(filterRef('r2')), undefined);
    assert.equal((await labelsOf('users-b'))[FAULT_TARGET_LABEL], undefined);
  });

  it('removes them at once on Ctrl-C (the CLI aborts its signal), before the check itself returns', async () => {
    const ctrl = new AbortController();
    let goneWhileRunning = false;
    await withPodFault(rc, { namespace: NS, pods: ['users-a'], runId: 'r3' }, { delayMs: 200, percent: 100 }, async () => {
      ctrl.abort();
      const deadline = Date.now() + 10_000;
      while (Date.now() < deadline && !goneWhileRunning) {
        goneWhileRunning = (await api.read(filterRef('r3'))) === undefined && (await labelsOf('users-a'))[FAULT_TARGET_LABEL] === undefined;
        if (!goneWhileRunning) await new Promise((r) => setTimeout(r, 50));
      }
    }, ctrl.signal);
    assert.ok(goneWhileRunning, 'filter and label removed while the check was still running');
  });

  it('undoes the labels it set when the filter is refused, and adds nothing', async () => {
    // The CRD keeps typed_config opaque, so a refusal here stands for an admission webhook (istiod validates EnvoyFilters).
    const failing = { ...rc, apply: async (obj: Parameters<typeof rc.apply>[0], opts?: Parameters<typeof rc.apply>[1]) => (obj.kind === 'EnvoyFilter' ? Promise.reject(new Error('admission webhook denied the request')) : rc.apply(obj, opts)) };
    await assert.rejects(injectPodFault(failing, { namespace: NS, pods: ['users-a'], runId: 'r4' }, { abortStatus: 503, percent: 100 }), /admission webhook/);
    assert.equal((await labelsOf('users-a'))[FAULT_TARGET_LABEL], undefined);
  });
});

describe('pods as verify resilience sees them on the real API', () => {
  it('lists a service`s pods with IP and whether they serve, and deletes one with grace 0 at once, where a normal delete would wait for its kubelet', async () => {
    await runningPod('products-a', 'products', '10.0.1.1');
    await runningPod('products-b', 'products', '10.0.1.2');
    await runningPod('products-c', 'products', '10.0.1.3');
    const pods = await rc.podsOf(NS, 'products');
    assert.deepEqual(pods, [
      { name: 'products-a', ip: '10.0.1.1', serving: true },
      { name: 'products-b', ip: '10.0.1.2', serving: true },
      { name: 'products-c', ip: '10.0.1.3', serving: true },
    ]);
    // Contrast: the default grace period leaves a bound pod Terminating (not serving) until a kubelet confirms.
    await core.deleteNamespacedPod({ name: 'products-c', namespace: NS });
    const terminating = (await rc.podsOf(NS, 'products')).find((p) => p.name === 'products-c');
    assert.deepEqual(terminating, { name: 'products-c', ip: '10.0.1.3', serving: false });
    await rc.deletePodNow(NS, 'products-b');
    assert.equal(await api.read({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'products-b', namespace: NS } }), undefined);
    await core.deleteNamespacedPod({ name: 'products-c', namespace: NS, gracePeriodSeconds: 0 });
  });

  it('reads a Deployment`s wanted, ready and available replicas', async () => {
    const apps = { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'users', namespace: NS }, spec: { replicas: 2, selector: { matchLabels: { 'app.kubernetes.io/name': 'users' } }, template: { metadata: { labels: { 'app.kubernetes.io/name': 'users' } }, spec: { containers: [{ name: 'app', image: 'example.invalid/app:test' }] } } } };
    await api.apply(apps);
    assert.deepEqual(await rc.deployment(NS, 'users'), { replicas: 2, ready: 0, available: 0 });
    assert.equal(await rc.deployment(NS, 'nope'), undefined);
  });
});

/**
 * IST0133 is raised for every EnvoyFilter ("exposes internal implementation details"): kept, because no
 * other Istio API can fault one replica (VirtualService fault runs in the caller before a host is picked),
 * and the filter lives only for one check. Nothing else is allowed.
 */
const ALLOWED = [{ code: 'IST0133', reason: 'EnvoyFilter is the only way to fault one replica' }];

describe('istioctl on the rendered fault filter', () => {
  it('analyze (offline, with the real CRDs) and validate report nothing beyond the warning every EnvoyFilter gets', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'meshgw-fault-'));
    try {
      const file = path.join(dir, 'faults.yaml');
      const objects = [
        { apiVersion: 'v1', kind: 'Namespace', metadata: { name: NS, labels: { 'istio-injection': 'enabled' } } },
        renderFaultFilter({ namespace: NS, runId: 'd9' }, { delayMs: 300, percent: 100 }),
        renderFaultFilter({ namespace: NS, runId: 'a9' }, { abortStatus: 503, percent: 50 }),
      ];
      await writeFile(file, objects.map((o) => stringify(o)).join('---\n'));
      const env = { KUBECONFIG: '/nonexistent/kubeconfig' };
      const analyze = await execa(toolBin('istioctl'), ['analyze', '--all-namespaces', '--use-kube=false', '-o', 'json', file, ISTIO_CRD_FILE], { reject: false, timeout: 120_000, env });
      assert.equal(analyze.exitCode, 0, analyze.stderr);
      const findings = (JSON.parse(analyze.stdout || '[]') as { code: string; level: string; origin: string }[]).filter((f) => !ALLOWED.some((a) => a.code === f.code));
      assert.deepEqual(findings, []);
      const validate = await execa(toolBin('istioctl'), ['validate', '-f', file], { reject: false, timeout: 120_000, env });
      assert.equal(validate.exitCode, 0, validate.stderr);
      const lines = `${validate.stdout}\n${validate.stderr}`.split('\n').map((l) => l.trim()).filter(Boolean);
      // Valid, and its only findings the same "EnvoyFilter exposes internal implementation details" warning as IST0133.
      const header = [`"${file}" is valid`, `"${file}" has warnings:`];
      assert.ok(lines.some((l) => header.includes(l)), lines.join('\n'));
      assert.deepEqual(lines.filter((l) => !header.includes(l) && !/^\* EnvoyFilter\/meshgw\/meshgw-fault-(d9|a9): EnvoyFilter exposes internal implementation details/.test(l)), []);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
