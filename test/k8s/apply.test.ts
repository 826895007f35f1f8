import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { applyObjects, pruneStale } from '../../src/k8s/apply.js';
import { createClusterApi } from '../../src/k8s/client.js';
import type { ClusterApi } from '../../src/k8s/cluster.js';
import { removeFromCluster } from '../../src/k8s/cleanup.js';
import { renderManifests, type K8sObject } from '../../src/k8s/manifests/index.js';
import { describeProblem, waitForRollout } from '../../src/k8s/rollout.js';
import { objectKey, startFakeApiServer, type FakeApiServer, type StoredObject } from './fake-apiserver.js';
import { images, repoConfig } from './fixtures.js';

let server: FakeApiServer;
let api: ClusterApi;

beforeEach(async () => {
  server = await startFakeApiServer();
  api = createClusterApi(server.kubeConfig());
});
afterEach(async () => {
  await server.close();
});

function rendered(): K8sObject[] {
  return renderManifests({ config: repoConfig(), images: images(), ingressNodePort: 30080, tokenSecret: 't'.repeat(43) });
}

/** Plays the Deployment controller: every applied Deployment becomes fully rolled out. */
function rollOutEverything(obj: StoredObject): void {
  if (obj.kind !== 'Deployment') return;
  const replicas = (obj.spec as { replicas: number }).replicas;
  obj.status = { observedGeneration: obj.metadata.generation, replicas, updatedReplicas: replicas, availableReplicas: replicas, readyReplicas: replicas };
}

function pod(name: string, app: string, status: Record<string, unknown>): StoredObject {
  return { apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace: 'meshgw', labels: { 'app.kubernetes.io/name': app } }, status };
}

describe('apply, prune and rollout against a Kubernetes API on loopback', () => {
  it('applies every object by server-side apply as field manager meshgw with force', async () => {
    const objects = rendered();
    const applied = await applyObjects(api, objects);
    assert.equal(applied.length, objects.length);
    const patches = server.requests.filter((r) => r.method === 'PATCH');
    assert.equal(patches.length, objects.length);
    for (const p of patches) {
      assert.equal(p.contentType, 'application/apply-patch+yaml');
      assert.equal(p.query.get('fieldManager'), 'meshgw');
      assert.equal(p.query.get('force'), 'true');
    }
    const paths = patches.map((p) => p.path);
    assert.equal(paths[0], '/api/v1/namespaces/meshgw');
    assert.ok(paths.includes('/apis/apps/v1/namespaces/meshgw/deployments/orders'));
    assert.ok(paths.includes('/apis/security.istio.io/v1/namespaces/meshgw/peerauthentications/default'));
    assert.ok(paths.includes('/apis/gateway.networking.k8s.io/v1/namespaces/meshgw/gateways/meshgw'));
    assert.ok(paths.includes('/apis/gateway.networking.k8s.io/v1/namespaces/meshgw/httproutes/users'));
    assert.ok(server.objects.has(objectKey('security.istio.io/v1', 'AuthorizationPolicy', 'meshgw', 'users-callers')));
  });

  it('prunes only the meshgw object the config no longer renders', async () => {
    await applyObjects(api, rendered());
    // An object meshgw applied earlier (a service since removed) and one somebody else owns.
    server.put({ apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'reviews', namespace: 'meshgw', labels: { 'app.kubernetes.io/managed-by': 'meshgw' } } });
    server.put({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'someone-elses', namespace: 'meshgw', labels: { team: 'x' } } });
    server.requests.length = 0;
    const pruned = await pruneStale(api, 'meshgw', rendered());
    assert.deepEqual(pruned, ['Deployment/meshgw/reviews']);
    const deletes = server.requests.filter((r) => r.method === 'DELETE').map((r) => r.path);
    assert.deepEqual(deletes, ['/apis/apps/v1/namespaces/meshgw/deployments/reviews']);
    const lists = server.requests.filter((r) => r.method === 'GET');
    assert.ok(lists.every((r) => r.query.get('labelSelector') === 'app.kubernetes.io/managed-by=meshgw'), 'lists by the managed-by label');
    assert.ok(server.objects.has(objectKey('v1', 'ConfigMap', 'meshgw', 'someone-elses')));
    assert.ok(server.objects.has(objectKey('apps/v1', 'Deployment', 'meshgw', 'users')));
  });

  it('waits until every Deployment reports its replicas updated and available', async () => {
    await applyObjects(api, rendered());
    let polls = 0;
    const seen: string[] = [];
    const result = await waitForRollout(api, 'meshgw', ['users', 'products', 'orders'], {
      deadlineMs: 60_000,
      pollMs: 0,
      // The controller catches up after the second poll.
      sleep: async () => {
        polls += 1;
        if (polls === 2) for (const o of server.objects.values()) rollOutEverything(o);
      },
    }, (p) => seen.push(p.map((d) => `${d.name}:${d.available}/${d.replicas}`).join(' ')));
    assert.equal(result.type, 'ready');
    assert.equal(polls, 2);
    assert.equal(seen[0], 'users:0/2 products:0/2 orders:0/2');
    assert.equal(seen.at(-1), 'users:2/2 products:2/2 orders:2/2');
  });

  it('names the pod and reason when an image cannot be pulled, a container crash-loops or a pod is unschedulable', async () => {
    await applyObjects(api, rendered());
    server.put(pod('users-7d9f-abcde', 'users', {
      phase: 'Pending',
      conditions: [{ type: 'PodScheduled', status: 'True' }],
      containerStatuses: [{ name: 'users', ready: false, restartCount: 0, image: 'x', imageID: '', state: { waiting: { reason: 'ImagePullBackOff', message: 'Back-off pulling image "123.dkr.ecr/meshgw-users@sha256:aaa": not found' } } }],
    }));
    server.put(pod('orders-5c6b-fghij', 'orders', {
      phase: 'Running',
      conditions: [{ type: 'PodScheduled', status: 'True' }],
      containerStatuses: [{ name: 'orders', ready: false, restartCount: 4, image: 'x', imageID: '', state: { waiting: { reason: 'CrashLoopBackOff', message: 'back-off 40s' } }, lastState: { terminated: { reason: 'Error', exitCode: 2 } } }],
    }));
    server.logs.set('orders-5c6b-fghij', 'starting orders\nTOKEN_SECRET is not set\n');
    server.put(pod('products-1a2b-klmno', 'products', {
      phase: 'Pending',
      conditions: [{ type: 'PodScheduled', status: 'False', reason: 'Unschedulable', message: '0/2 nodes are available: 2 Insufficient memory.' }],
    }));
    let clock = 0;
    const result = await waitForRollout(api, 'meshgw', ['users', 'products', 'orders'], { deadlineMs: 10, pollMs: 0, now: () => clock, sleep: async () => void (clock += 5) });
    assert.equal(result.type, 'failed');
    if (result.type !== 'failed') return;
    const byPod = Object.fromEntries(result.problems.map((p) => [p.pod, p]));
    assert.equal(byPod['users-7d9f-abcde'].reason, 'ImagePullBackOff');
    assert.match(byPod['users-7d9f-abcde'].message, /Back-off pulling image .*not found/);
    assert.equal(byPod['orders-5c6b-fghij'].reason, 'CrashLoopBackOff');
    assert.deepEqual(byPod['orders-5c6b-fghij'].logTail, ['starting orders', 'TOKEN_SECRET is not set']);
    assert.match(describeProblem(byPod['orders-5c6b-fghij']), /pod orders-5c6b-fghij: CrashLoopBackOff: .*last exit code 2.*\n.*TOKEN_SECRET is not set/s);
    assert.equal(byPod['products-1a2b-klmno'].reason, 'Unschedulable');
    assert.match(byPod['products-1a2b-klmno'].message, /Insufficient memory/);
    const logRequest = server.requests.find((r) => r.path.endsWith('/pods/orders-5c6b-fghij/log'));
    assert.equal(logRequest?.query.get('previous'), 'true', 'reads the crashed container, not the one restarting');
    assert.equal(logRequest?.query.get('container'), 'orders');
  });

  it('removes the Gateway first, then the rest, and waits until they are gone', async () => {
    await applyObjects(api, rendered());
    server.lingerReads = 2;
    server.requests.length = 0;
    let clock = 0;
    const result = await removeFromCluster(api, 'meshgw', { deadlineMs: 1_000, pollMs: 0, now: () => clock, sleep: async () => void (clock += 1) });
    assert.deepEqual(result, { type: 'removed', objects: rendered().length });
    const deletes = server.requests.filter((r) => r.method === 'DELETE').map((r) => r.path);
    assert.equal(deletes[0], '/apis/gateway.networking.k8s.io/v1/namespaces/meshgw/gateways/meshgw');
    assert.equal(deletes.at(-1), '/api/v1/namespaces/meshgw');
    assert.equal(server.objects.size, 0);
  });

  it('skips cleanup when meshgw deployed nothing', async () => {
    const result = await removeFromCluster(api, 'meshgw', { deadlineMs: 0, pollMs: 0 });
    assert.equal(result.type, 'skipped');
  });
});
