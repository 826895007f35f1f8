/**
 * The happy path of `top --target aws`'s pod-proxy scrape, against a FAKE API server: the real
 * kube-apiserver (eks-source.test.ts) refuses to proxy to the loopback pod IPs that pods without a
 * kubelet hold. The fake follows the documented pod proxy behaviour: GET
 * /api/v1/namespaces/{ns}/pods/{name}:{port}/proxy/{path} is forwarded to the pod's port and path and
 * answers with the pod's status and body as they are (here the Prometheus text Istio's :15020 merges),
 * with the caller's bearer token checked as the API server does. The text is prom-client's (a real
 * exposer) in Istio's metric names.
 */
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { KubeConfig } from '@kubernetes/client-node';
import { Counter, Registry } from 'prom-client';
import { createEksSource } from '../../src/top/eks-source.js';
import { createPodMetricsApi } from '../../src/top/pod-metrics-api.js';

const TOKEN = 'fake-token';

describe('top on EKS: the pod proxy answer', () => {
  let server: Server;
  let kc: KubeConfig;
  const paths: string[] = [];
  let metrics = '';

  before(async () => {
    const registry = new Registry();
    const requests = new Counter({ name: 'istio_requests_total', help: 'requests', labelNames: ['reporter', 'source_workload', 'destination_workload', 'response_code'], registers: [registry] });
    requests.inc({ reporter: 'destination', source_workload: 'meshgw-istio', destination_workload: 'users', response_code: '200' }, 12);
    metrics = await registry.metrics();
    server = createServer((req, res) => {
      paths.push(req.url ?? '');
      if (req.headers.authorization !== `Bearer ${TOKEN}`) return void res.writeHead(401).end();
      if (req.url === '/api/v1/namespaces/meshgw/pods') {
        const pod = (name: string, labels: Record<string, string>) => ({ metadata: { name, namespace: 'meshgw', labels }, status: { phase: 'Running', podIP: '10.0.1.17' } });
        res.writeHead(200, { 'content-type': 'application/json' });
        return void res.end(JSON.stringify({ kind: 'PodList', apiVersion: 'v1', items: [pod('users-1', { 'app.kubernetes.io/name': 'users' }), pod('meshgw-istio-1', { 'gateway.networking.k8s.io/gateway-name': 'meshgw' })] }));
      }
      if (req.url === '/api/v1/namespaces/meshgw/pods/users-1:15020/proxy/stats/prometheus') {
        res.writeHead(200, { 'content-type': registry.contentType });
        return void res.end(metrics);
      }
      // The agent answers what it answers; the API server passes a 503 through.
      res.writeHead(503, { 'content-type': 'text/plain' });
      res.end('agent not ready');
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    kc = new KubeConfig();
    kc.loadFromOptions({
      clusters: [{ name: 'fake', server: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, skipTLSVerify: true }],
      users: [{ name: 'u', token: TOKEN }],
      contexts: [{ name: 'fake', cluster: 'fake', user: 'u' }],
      currentContext: 'fake',
    });
  });
  after(() => new Promise<void>((r) => server.close(() => r())));

  it("parses each pod's merged metrics with the target labels namespace, pod and app, and names a pod that answered otherwise", async () => {
    const round = await createEksSource({ mesh: { namespace: 'meshgw', trustDomain: 'cluster.local', leafLifetimeHours: 24, caLifetimeDays: 365 } }, createPodMetricsApi(kc), { now: () => 42 }).scrapeAll();
    assert.ok(paths.includes('/api/v1/namespaces/meshgw/pods/users-1:15020/proxy/stats/prometheus'), 'the path keeps its "/" unencoded');
    assert.equal(round.scrapes.length, 1);
    const [s] = round.scrapes;
    assert.deepEqual(s.target, { namespace: 'meshgw', pod: 'users-1', app: 'users', url: '/api/v1/namespaces/meshgw/pods/users-1:15020/proxy/stats/prometheus' });
    assert.equal(s.at, 42);
    assert.deepEqual(s.samples, [{ name: 'istio_requests_total', labels: { reporter: 'destination', source_workload: 'meshgw-istio', destination_workload: 'users', response_code: '200' }, value: 12 }]);
    assert.deepEqual(round.down, [{ pod: 'meshgw-istio-1', url: '/api/v1/namespaces/meshgw/pods/meshgw-istio-1:15020/proxy/stats/prometheus', reason: 'HTTP 503: agent not ready' }]);
  });
});
