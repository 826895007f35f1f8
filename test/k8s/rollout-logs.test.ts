// The one rollout failure path a real kube-apiserver cannot produce here: the log tail of a crashed
// container. Pod logs are served by the node's kubelet through the API server, and no kubelet runs in the
// suite's real cluster, so this test uses the loopback stand-in (fake-apiserver.ts), shaped as the real
// GET .../pods/<name>/log?container=&previous=&tailLines= answers. Everything else about rollout runs
// against the real server in apply.test.ts.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createClusterApi } from '../../src/k8s/client.js';
import { describeProblem, waitForRollout } from '../../src/k8s/rollout.js';
import { startFakeApiServer, type FakeApiServer } from './fake-apiserver.js';

let server: FakeApiServer;
before(async () => {
  server = await startFakeApiServer();
});
after(async () => {
  await server.close();
});

describe('rollout diagnosis with pod logs (kubelet stand-in)', () => {
  it('shows the last log lines of the previous, crashed container of a crash-looping pod', async () => {
    server.put({ apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'orders', namespace: 'meshgw', generation: 1 }, spec: { replicas: 2 } });
    server.put({
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'orders-5c6b-fghij', namespace: 'meshgw', labels: { 'app.kubernetes.io/name': 'orders' } },
      status: { phase: 'Running', conditions: [{ type: 'PodScheduled', status: 'True' }], containerStatuses: [{ name: 'orders', ready: false, restartCount: 4, image: 'x', imageID: '', state: { waiting: { reason: 'CrashLoopBackOff', message: 'back-off 40s' } }, lastState: { terminated: { reason: 'Error', exitCode: 2 } } }] },
    });
    server.logs.set('orders-5c6b-fghij', 'starting orders\nTOKEN_SECRET is not set\n');
    const api = createClusterApi(server.kubeConfig());
    let clock = 0;
    const result = await waitForRollout(api, 'meshgw', ['orders'], { deadlineMs: 10, pollMs: 0, now: () => clock, sleep: async () => void (clock += 5) });
    assert.equal(result.type, 'failed');
    if (result.type !== 'failed') return;
    const problem = result.problems.find((p) => p.pod === 'orders-5c6b-fghij');
    assert.ok(problem);
    assert.deepEqual(problem.logTail, ['starting orders', 'TOKEN_SECRET is not set']);
    assert.match(describeProblem(problem), /pod orders-5c6b-fghij: CrashLoopBackOff: .*last exit code 2.*\n.*TOKEN_SECRET is not set/s);
    const logRequest = server.requests.find((r) => r.path.endsWith('/pods/orders-5c6b-fghij/log'));
    assert.equal(logRequest?.query.get('previous'), 'true', 'reads the crashed container, not the one restarting');
    assert.equal(logRequest?.query.get('container'), 'orders');
  });
});
