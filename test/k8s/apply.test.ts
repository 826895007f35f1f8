// deploy's apply, prune, rollout wait and down's cleanup, with meshgw's own ClusterApi against a REAL
// kube-apiserver (+ etcd) carrying the real Gateway API and Istio CRDs (test/support/real-cluster.ts).
// No controllers run there, so the tests play them: they write Deployment and Pod status as the
// deployment controller and kubelet would, and complete deletions as the garbage collector and the
// namespace controller would. Each test uses its own namespace on the file's one server.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { MeshgwConfig } from '../../src/config/schema.js';
import { applyObjects, PRUNABLE_KINDS, pruneStale } from '../../src/k8s/apply.js';
import { removeFromCluster } from '../../src/k8s/cleanup.js';
import { createClusterApi } from '../../src/k8s/client.js';
import type { ClusterApi } from '../../src/k8s/cluster.js';
import { renderManifests, type K8sObject } from '../../src/k8s/manifests/index.js';
import { describeProblem, waitForRollout } from '../../src/k8s/rollout.js';
import { completeRollouts, createPodWithStatus, finishDeletions, writeDeploymentStatus } from '../support/cluster-status.js';
import { startRealCluster, type RealCluster } from '../support/real-cluster.js';
import { configIn, images } from './fixtures.js';

let cluster: RealCluster;
let api: ClusterApi;

before(async () => {
  cluster = await startRealCluster({ crds: true });
  api = createClusterApi(cluster.kubeConfig);
});
after(async () => {
  await cluster?.stop();
});

function rendered(cfg: MeshgwConfig, imageOverrides: Record<string, string> = {}): K8sObject[] {
  return renderManifests({ config: cfg, images: { ...images(), ...imageOverrides }, ingressNodePort: 30080, tokenSecret: 't'.repeat(43) });
}

/** Only the objects in the mesh namespace (the tracing collector lives in its own, shared by every test). */
function inNamespace(objects: K8sObject[], namespace: string): K8sObject[] {
  return objects.filter((o) => o.metadata.namespace === namespace || (o.kind === 'Namespace' && o.metadata.name === namespace));
}

interface ManagedField {
  manager?: string;
  operation?: string;
}

async function resourceVersions(objects: K8sObject[]): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  for (const o of objects) {
    const stored = await api.read(o);
    out.set(`${o.kind}/${o.metadata.name}`, String((stored?.metadata as { resourceVersion?: string } | undefined)?.resourceVersion));
  }
  return out;
}

const deployments = (cfg: MeshgwConfig) => Object.keys(cfg.services);

describe('apply, prune, rollout and cleanup on a real kube-apiserver', () => {
  it('applies every object by server-side apply, owned by field manager meshgw', async () => {
    const cfg = configIn('apply');
    const objects = inNamespace(rendered(cfg), 'apply');
    const applied = await applyObjects(api, objects);
    assert.deepEqual(applied, objects.map((o) => `${o.kind}/${o.metadata.namespace ? `${o.metadata.namespace}/` : ''}${o.metadata.name}`));
    for (const o of objects) {
      const stored = await api.read(o);
      const managers = ((stored?.metadata as { managedFields?: ManagedField[] })?.managedFields ?? []).filter((m) => m.operation === 'Apply').map((m) => m.manager);
      assert.deepEqual(managers, ['meshgw'], `${o.kind}/${o.metadata.name} is applied by meshgw alone`);
    }
  });

  it('changes nothing on a second apply of the same objects: resourceVersions and generations stay', async () => {
    const cfg = configIn('again');
    const objects = inNamespace(rendered(cfg), 'again');
    await applyObjects(api, objects);
    const first = await resourceVersions(objects);
    await applyObjects(api, inNamespace(rendered(cfg), 'again'));
    const second = await resourceVersions(objects);
    // The real server rewrites a new Gateway once, on its first update: the CRD's defaulted status
    // (conditions "Waiting for controller") encodes differently from what create stored. Its spec and
    // generation do not change, and from then on it is as still as the rest.
    const moved = [...second].filter(([k, v]) => first.get(k) !== v).map(([k]) => k);
    assert.deepEqual(moved, ['Gateway/meshgw']);
    const gateway = await api.read(objects.find((o) => o.kind === 'Gateway')!);
    assert.equal((gateway?.metadata as { generation?: number }).generation, 1);
    await applyObjects(api, inNamespace(rendered(cfg), 'again'));
    assert.deepEqual(await resourceVersions(objects), second);
  });

  it('updates only the objects a config change touches', async () => {
    const cfg = configIn('change');
    const before = inNamespace(rendered(cfg), 'change');
    await applyObjects(api, before);
    await applyObjects(api, before);
    const versionsBefore = await resourceVersions(before);
    // products now also calls users: users' AuthorizationPolicy and products' Deployment (USERS_URL) change.
    const changed: MeshgwConfig = { ...cfg, services: { ...cfg.services, products: { ...cfg.services.products, backends: [...cfg.services.products.backends, 'users'] } } };
    const afterObjects = inNamespace(rendered(changed), 'change');
    const differs = afterObjects.filter((o, i) => JSON.stringify(o) !== JSON.stringify(before[i])).map((o) => `${o.kind}/${o.metadata.name}`);
    assert.ok(differs.length > 0 && differs.length < afterObjects.length, `the change touches some objects: ${differs.join(', ')}`);
    await applyObjects(api, afterObjects);
    const versionsAfter = await resourceVersions(afterObjects);
    const updated = [...versionsAfter].filter(([k, v]) => versionsBefore.get(k) !== v).map(([k]) => k);
    assert.deepEqual(updated.sort(), differs.sort());
  });

  it('prunes only the meshgw object the config no longer renders', async () => {
    const cfg = configIn('prune');
    const objects = inNamespace(rendered(cfg), 'prune');
    await applyObjects(api, objects);
    // What an earlier deploy applied for a service since removed, and an object somebody else owns.
    const stale = { ...objects.find((o) => o.kind === 'ConfigMap')!, metadata: { name: 'reviews-settings', namespace: 'prune', labels: { 'app.kubernetes.io/managed-by': 'meshgw' } } };
    const foreign: K8sObject = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'someone-elses', namespace: 'prune', labels: { team: 'x' } }, data: { a: 'b' } };
    await applyObjects(api, [stale, foreign]);
    const pruned = await pruneStale(api, 'prune', objects);
    assert.deepEqual(pruned, ['ConfigMap/prune/reviews-settings']);
    // Foreground deletion: the object waits for the garbage collector, which removes it once it has no dependents.
    const pending = await api.read(stale);
    assert.ok(pending === undefined || (pending.metadata as { deletionTimestamp?: unknown }).deletionTimestamp, 'the stale object is being deleted');
    await finishDeletions(cluster.kubeConfig, [stale]);
    assert.equal(await api.read(stale), undefined);
    assert.ok(await api.read(foreign), 'an object without the managed-by label is kept');
    for (const o of objects) assert.ok(await api.read(o), `${o.kind}/${o.metadata.name} is kept`);
  });

  it('waits until every Deployment reports its replicas updated and available for its generation', async () => {
    const cfg = configIn('rollout');
    // Two replicas each, whatever meshgw.yaml says: "available" must reach the Deployment's own count.
    for (const svc of Object.values(cfg.services)) svc.replicas = 2;
    await applyObjects(api, inNamespace(rendered(cfg), 'rollout'));
    let polls = 0;
    const seen: string[] = [];
    const result = await waitForRollout(api, 'rollout', deployments(cfg), {
      deadlineMs: 60_000,
      pollMs: 0,
      // The deployment controller: users catches up first, the rest after the next poll.
      sleep: async () => {
        polls += 1;
        if (polls === 1) await writeDeploymentStatus(cluster.kubeConfig, 'rollout', 'users');
        if (polls === 2) await completeRollouts(cluster.kubeConfig, 'rollout', deployments(cfg));
      },
    }, (p) => seen.push(p.map((d) => `${d.name}:${d.available}/${d.replicas}`).join(' ')));
    assert.equal(result.type, 'ready');
    assert.equal(polls, 2);
    assert.deepEqual(seen, ['users:0/2 products:0/2 orders:0/2', 'users:2/2 products:0/2 orders:0/2', 'users:2/2 products:2/2 orders:2/2']);
  });

  it('does not count a status written for an older generation as rolled out', async () => {
    const cfg = configIn('stale-status');
    await applyObjects(api, inNamespace(rendered(cfg), 'stale-status'));
    await completeRollouts(cluster.kubeConfig, 'stale-status', deployments(cfg));
    // A new image bumps users' generation; the status still describes the old one.
    await applyObjects(api, inNamespace(rendered(cfg, { users: `${images().users.split('@')[0]}@sha256:${'e'.repeat(64)}` }), 'stale-status'));
    let clock = 0;
    const result = await waitForRollout(api, 'stale-status', deployments(cfg), { deadlineMs: 1, pollMs: 0, now: () => clock, sleep: async () => void (clock += 1) });
    assert.equal(result.type, 'failed');
    assert.deepEqual(result.deployments.filter((d) => !d.done).map((d) => d.name), ['users']);
  });

  it('names the pod and reason when an image cannot be pulled, a container crash-loops or a pod is unschedulable', async () => {
    const cfg = configIn('problems');
    await applyObjects(api, inNamespace(rendered(cfg), 'problems'));
    const app = (name: string) => ({ 'app.kubernetes.io/name': name });
    await createPodWithStatus(cluster.kubeConfig, 'problems', { name: 'users-7d9f-abcde', labels: app('users'), containers: ['users'] }, {
      phase: 'Pending',
      conditions: [{ type: 'PodScheduled', status: 'True' }],
      containerStatuses: [{ name: 'users', ready: false, restartCount: 0, image: 'x', imageID: '', state: { waiting: { reason: 'ImagePullBackOff', message: 'Back-off pulling image "123.dkr.ecr/meshgw-users@sha256:aaa": not found' } } }],
    });
    await createPodWithStatus(cluster.kubeConfig, 'problems', { name: 'orders-5c6b-fghij', labels: app('orders'), containers: ['orders'] }, {
      phase: 'Running',
      conditions: [{ type: 'PodScheduled', status: 'True' }],
      containerStatuses: [{ name: 'orders', ready: false, restartCount: 4, image: 'x', imageID: '', state: { waiting: { reason: 'CrashLoopBackOff', message: 'back-off 40s' } }, lastState: { terminated: { reason: 'Error', exitCode: 2 } } }],
    });
    await createPodWithStatus(cluster.kubeConfig, 'problems', { name: 'products-1a2b-klmno', labels: app('products'), containers: ['products'] }, {
      phase: 'Pending',
      conditions: [{ type: 'PodScheduled', status: 'False', reason: 'Unschedulable', message: '0/2 nodes are available: 2 Insufficient memory.' }],
    });
    let clock = 0;
    const result = await waitForRollout(api, 'problems', deployments(cfg), { deadlineMs: 10, pollMs: 0, now: () => clock, sleep: async () => void (clock += 5) });
    assert.equal(result.type, 'failed');
    if (result.type !== 'failed') return;
    const byPod = Object.fromEntries(result.problems.map((p) => [p.pod, p]));
    assert.equal(byPod['users-7d9f-abcde'].reason, 'ImagePullBackOff');
    assert.match(byPod['users-7d9f-abcde'].message, /Back-off pulling image .*not found/);
    // The logs of a crashed container come from its node's kubelet; none runs here (test/k8s/rollout-logs.test.ts covers them).
    assert.equal(byPod['orders-5c6b-fghij'].reason, 'CrashLoopBackOff');
    assert.match(describeProblem(byPod['orders-5c6b-fghij']), /pod orders-5c6b-fghij: CrashLoopBackOff: .*last exit code 2.*restarted 4 times/);
    assert.equal(byPod['products-1a2b-klmno'].reason, 'Unschedulable');
    assert.match(byPod['products-1a2b-klmno'].message, /Insufficient memory/);
  });

  it('removes the Gateway first, then the rest and the namespace, and waits until they are gone', async () => {
    const cfg = configIn('cleanup');
    const objects = inNamespace(rendered(cfg), 'cleanup');
    await applyObjects(api, objects);
    const deleteOrder: string[] = [];
    const recording: ClusterApi = { ...api, delete: async (ref) => (deleteOrder.push(`${ref.kind}/${ref.metadata.name}`), api.delete(ref)) };
    let terminating = 0;
    const result = await removeFromCluster(recording, 'cleanup', {
      deadlineMs: 60_000,
      pollMs: 0,
      // Between polls the garbage collector and the namespace controller finish what the deletes started.
      sleep: async () => {
        terminating = Math.max(terminating, (await Promise.all(objects.map((o) => api.read(o)))).filter((o) => (o?.metadata as { deletionTimestamp?: string } | undefined)?.deletionTimestamp).length);
        await finishDeletions(cluster.kubeConfig, objects);
      },
    });
    assert.deepEqual(result, { type: 'removed', objects: objects.length });
    assert.equal(terminating, objects.length, 'every object was Terminating until its controller finished');
    assert.equal(deleteOrder[0], 'Gateway/meshgw');
    assert.equal(deleteOrder.at(-1), 'Namespace/cleanup');
    assert.equal(deleteOrder.length, objects.length);
    for (const o of objects) assert.equal(await api.read(o), undefined, `${o.kind}/${o.metadata.name} is gone`);
  });

  it('reports the objects still deleting when the deadline passes', async () => {
    const cfg = configIn('slow-cleanup');
    const objects = inNamespace(rendered(cfg), 'slow-cleanup');
    await applyObjects(api, objects);
    let clock = 0;
    // No garbage collector plays along: the Foreground deletions never complete.
    const result = await removeFromCluster(api, 'slow-cleanup', { deadlineMs: 2, pollMs: 1, now: () => clock, sleep: async (ms) => void (clock += ms) });
    assert.equal(result.type, 'skipped');
    assert.match(result.type === 'skipped' ? result.reason : '', /still deleting after the deadline: Gateway\/slow-cleanup\/meshgw, .*Namespace\/slow-cleanup/);
  });

  it('prunes and cleans up every kind meshgw renders into the mesh namespace', () => {
    const cfg = configIn('kinds');
    // Two replicas: a PodDisruptionBudget is rendered only from two on.
    cfg.services.users.replicas = 2;
    const kinds = new Set(inNamespace(rendered(cfg), 'kinds').filter((o) => o.kind !== 'Namespace').map((o) => `${o.apiVersion} ${o.kind}`));
    const prunable = new Set(PRUNABLE_KINDS.map((k) => `${k.apiVersion} ${k.kind}`));
    assert.deepEqual([...kinds].filter((k) => !prunable.has(k)), []);
  });

  it('skips cleanup when meshgw deployed nothing in the namespace', async () => {
    await api.apply({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'untouched' } });
    const result = await removeFromCluster(api, 'untouched', { deadlineMs: 0, pollMs: 0 });
    assert.deepEqual(result, { type: 'skipped', reason: 'nothing deployed by meshgw in namespace untouched' });
    assert.ok(await api.read({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'untouched' } }), 'a namespace meshgw did not make stays');
  });
});
