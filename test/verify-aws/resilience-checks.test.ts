// verify resilience on aws, check by check. Real component: a REAL kube-apiserver (+ etcd) with the Istio 1.28.0
// CRDs (test/support/real-cluster.ts) holds the pods, Deployments, the fault EnvoyFilter and the fault label: every
// label, filter and grace-0 delete the checks make is a real API call, and the test reads them back from it.
// FAKES, because the real API server has no kubelet and no Envoy: (1) the sidecars' admin output
// (`pilot-agent request GET stats` / `GET clusters`), printed in Envoy's documented formats (cluster stats
// `cluster.outbound|8080||<svc>.<ns>.svc.cluster.local;.<stat>: N`, host lines `<cluster>::<ip>:<port>::rq_total::N`
// and `::health_flags::/failed_outlier_check`, source/server/admin/clusters_handler.cc); (2) the order load through
// API Gateway, answering 201 or the 5xx API Gateway passes through when the mesh fails; (3) the ReplicaSet
// controller and kubelet, which replace a deleted pod. The fake mesh reads the fault from the real API server (a
// pod carrying the label AND an EnvoyFilter selecting it), so it only sees a fault the checks really applied.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { CoreV1Api } from '@kubernetes/client-node';
import type { MeshgwConfig } from '../../src/config/schema.js';
import { trafficPolicySchema } from '../../src/config/traffic-policy.js';
import { createClusterApi } from '../../src/k8s/client.js';
import type { ClusterApi } from '../../src/k8s/cluster.js';
import { FAULT_TARGET_LABEL } from '../../src/verify/aws/pod-faults.js';
import { awsResilienceChecks } from '../../src/verify/aws/resilience-checks.js';
import { createResilienceCluster, type AwsResilienceContext } from '../../src/verify/aws/resilience-context.js';
import type { Answer } from '../../src/verify/aws/resilience-limits-check.js';
import type { AwsShopper } from '../../src/verify/aws/resilience-setup.js';
import type { OrderLoadInput, OrderLoadOutcome } from '../../src/verify/resilience/order-load.js';
import { completeRollouts } from '../support/cluster-status.js';
import { startRealCluster, type RealCluster } from '../support/real-cluster.js';
import { configIn } from '../k8s/fixtures.js';

let cluster: RealCluster;
let api: ClusterApi;
let core: CoreV1Api;

before(async () => {
  cluster = await startRealCluster({ crds: true });
  api = createClusterApi(cluster.kubeConfig);
  core = cluster.kubeConfig.makeApiClient(CoreV1Api);
});
after(async () => {
  await cluster?.stop();
});

type MeshBehaviour = { ejects: boolean; retries: boolean };

/** The Envoy state of every caller sidecar, summed: per backend, host counters and cluster counters. */
class FakeMesh {
  hosts = new Map<string, { rq: number; ejected: boolean }>();
  counters = new Map<string, number>();
  constructor(readonly ns: string, readonly behaviour: MeshBehaviour) {}

  inc(service: string, stat: string, by = 1) {
    const k = `cluster.outbound|8080||${service}.${this.ns}.svc.cluster.local;.${stat}`;
    this.counters.set(k, (this.counters.get(k) ?? 0) + by);
  }
  statsText(): string {
    const lines = ['cluster_manager.active_clusters: 31', 'server.live: 1'];
    for (const s of ['users', 'products']) for (const stat of ['upstream_rq_retry', 'upstream_rq_pending_overflow', 'outlier_detection.ejections_active', 'outlier_detection.ejections_enforced_total']) this.inc(s, stat, 0);
    for (const [k, v] of this.counters) lines.push(`${k}: ${v}`);
    return `${lines.join('\n')}\n`;
  }
  clustersText(): string {
    const out: string[] = [];
    for (const [key, h] of this.hosts) {
      const [service, ip] = key.split('@');
      const c = `outbound|8080||${service}.${this.ns}.svc.cluster.local`;
      out.push(`${c}::outlier::success_rate_average::-1`, `${c}::default_priority::max_connections::1024`, `${c}::${ip}:8080::cx_active::2`, `${c}::${ip}:8080::rq_total::${h.rq}`, `${c}::${ip}:8080::health_flags::${h.ejected ? '/failed_outlier_check' : 'healthy'}`);
    }
    return `${out.join('\n')}\n`;
  }
  host(service: string, ip: string) {
    const k = `${service}@${ip}`;
    if (!this.hosts.has(k)) this.hosts.set(k, { rq: 0, ejected: false });
    return this.hosts.get(k)!;
  }
}

interface Fault {
  pod: string;
  kind: 'delay' | 'abort';
}

/** The faults in force, as Istio would see them: a labelled pod and an EnvoyFilter selecting its label value. */
async function faultsInForce(ns: string): Promise<Fault[]> {
  const filters = await api.list('networking.istio.io/v1alpha3', 'EnvoyFilter', ns, '');
  const pods = await api.list('v1', 'Pod', ns, FAULT_TARGET_LABEL);
  return pods.flatMap((p) => {
    const f = filters.find((x) => (x.spec as { workloadSelector: { labels: Record<string, string> } }).workloadSelector.labels[FAULT_TARGET_LABEL] === p.metadata.labels?.[FAULT_TARGET_LABEL]);
    if (!f) return [];
    const cfg = (f.spec as { configPatches: { patch: { value: { typed_config: { abort?: unknown } } } }[] }).configPatches[0].patch.value.typed_config;
    return [{ pod: p.metadata.name, kind: cfg.abort ? 'abort' : 'delay' }];
  });
}

async function runningPod(ns: string, name: string, app: string, ip: string, extraLabels: Record<string, string> = {}): Promise<void> {
  const created = await core.createNamespacedPod({ namespace: ns, body: { apiVersion: 'v1', kind: 'Pod', metadata: { name, labels: { 'app.kubernetes.io/name': app, ...extraLabels } }, spec: { nodeName: 'node-a', containers: [{ name: 'app', image: 'example.invalid/app:test' }] } } });
  created.status = { phase: 'Running', podIP: ip, conditions: [{ type: 'Ready', status: 'True' }] };
  await core.replaceNamespacedPodStatus({ name, namespace: ns, body: created });
}

function deploymentOf(ns: string, name: string, replicas: number) {
  const labels = { 'app.kubernetes.io/name': name };
  return { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name, namespace: ns }, spec: { replicas, selector: { matchLabels: labels }, template: { metadata: { labels }, spec: { containers: [{ name: 'app', image: 'example.invalid/app:test' }] } } } };
}

function configFor(ns: string, opts: { smallPools?: boolean } = {}): MeshgwConfig {
  const cfg = configIn(ns);
  const policy = trafficPolicySchema.parse(opts.smallPools ? { connectionPool: { maxConnections: 4, maxPendingRequests: 4 } } : {});
  const services = { ...cfg.services, users: { ...cfg.services.users, replicas: 2 }, products: { ...cfg.services.products, replicas: 2, trafficPolicy: policy } };
  const gateway = opts.smallPools ? { ...cfg.gateway, throttle: { rate: 100, burst: 100 }, usagePlans: cfg.gateway.usagePlans.map((p) => ({ ...p, throttle: { rate: 100, burst: 100 } })) } : cfg.gateway;
  return { ...cfg, services, gateway };
}

/** A namespace with users ×2, products ×2, orders ×1, Deployments rolled out; returns the context and its fake mesh. */
async function stack(ns: string, behaviour: MeshBehaviour, opts: { smallPools?: boolean; loadFails?: boolean } = {}) {
  const cfg = configFor(ns, opts);
  await api.apply({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns } });
  const ips: Record<string, string> = {};
  let nextIp = 10;
  for (const [svc, n] of [['users', 2], ['products', 2], ['orders', 1]] as const) {
    await api.apply(deploymentOf(ns, svc, n));
    for (let i = 0; i < n; i++) {
      const name = `${svc}-${String.fromCharCode(97 + i)}`;
      ips[name] = `10.1.0.${nextIp++}`;
      await runningPod(ns, name, svc, ips[name]);
    }
  }
  await completeRollouts(cluster.kubeConfig, ns, ['users', 'products', 'orders']);
  const mesh = new FakeMesh(ns, behaviour);
  const real = createResilienceCluster(api, cluster.kubeConfig, async () => assert.fail('no exec in tests'));
  let replaced = 0;
  const deleted: string[] = [];
  const ctx: AwsResilienceContext = {
    config: cfg,
    endpoint: { target: 'aws', config: cfg, baseUrl: 'https://abc123.execute-api.us-east-1.amazonaws.com/prod', apiKeys: [{ id: 'k1', name: 'demo-standard', plan: 'standard', value: 'secret' }] },
    cluster: {
      ...real,
      async deletePodNow(namespace, pod) {
        await real.deletePodNow(namespace, pod);
        deleted.push(pod);
        // Playing the ReplicaSet controller and the kubelet: a new pod of the same app comes up Ready.
        const app = pod.replace(/-[a-z0-9]+$/, '');
        await runningPod(namespace, `${app}-r${++replaced}`, app, `10.1.1.${replaced}`);
      },
      async proxyAdmin(_ns, pod, path) {
        // The faulted pod's own Envoy: its config has the fault filter once Istio would push it (label + filter).
        if (path === 'config_dump') return JSON.stringify({ configs: (await faultsInForce(ns)).some((f) => f.pod === pod) ? [{ name: 'envoy.filters.http.fault' }] : [] });
        assert.match(pod, /^(orders-|meshgw-istio-)/, 'only the callers (orders, the ingress gateway) are read');
        return path === 'stats' ? mesh.statsText() : mesh.clustersText();
      },
    },
    load: (input) => (opts.loadFails ? Promise.reject(new Error('load generator: socket hang up')) : fakeLoad(ns, mesh, input)),
    runId: `run${ns.slice(-3)}`,
    pollMs: 0,
  };
  return { ctx, mesh, deleted, ips };
}

/** The orders through API Gateway → ingress → orders → users and products, one Envoy decision per call. */
async function fakeLoad(ns: string, mesh: FakeMesh, input: OrderLoadInput): Promise<OrderLoadOutcome> {
  const count = Math.round(input.rate * input.seconds);
  const failures: Record<string, number> = {};
  let created = 0;
  let killAt = input.during ? Math.floor((count * input.during.atMs) / (input.seconds * 1000)) : -1;
  let faults = await faultsInForce(ns);
  const consecutive = new Map<string, number>();
  let podsNow = await Promise.all(['users', 'products'].map(async (s) => [s, (await api.list('v1', 'Pod', ns, `app.kubernetes.io/name=${s}`)).map((p) => ({ name: p.metadata.name, ip: (p.status as { podIP: string }).podIP }))] as const));
  for (let i = 0; i < count; i++) {
    let lost = false;
    if (i === killAt) {
      await input.during!.action();
      killAt = -1;
      // Calls in flight on the deleted pods: without retries the caller answers 503 and API Gateway passes it on.
      if (!mesh.behaviour.retries) lost = true;
      else ['users', 'products'].forEach((s) => mesh.inc(s, 'upstream_rq_retry'));
      podsNow = await Promise.all(['users', 'products'].map(async (s) => [s, (await api.list('v1', 'Pod', ns, `app.kubernetes.io/name=${s}`)).filter((p) => !(p.metadata as { deletionTimestamp?: string }).deletionTimestamp).map((p) => ({ name: p.metadata.name, ip: (p.status as { podIP: string }).podIP }))] as const));
      faults = await faultsInForce(ns);
    }
    for (const [service, pods] of podsNow) {
      const eligible = pods.filter((p) => !mesh.host(service, p.ip).ejected);
      // LEAST_REQUEST: a slow pod has more requests outstanding, so it is picked less (one call in five here).
      const slow = eligible.find((p) => faults.some((f) => f.pod === p.name && f.kind === 'delay'));
      const fast = eligible.filter((p) => p !== slow);
      const pick = slow && i % 5 === 0 ? slow : fast[i % fast.length];
      mesh.host(service, pick.ip).rq++;
      if (faults.some((f) => f.pod === pick.name && f.kind === 'abort')) {
        const n = (consecutive.get(pick.ip) ?? 0) + 1;
        consecutive.set(pick.ip, n);
        if (mesh.behaviour.ejects && n >= 3) {
          mesh.host(service, pick.ip).ejected = true;
          mesh.inc(service, 'outlier_detection.ejections_active');
          mesh.inc(service, 'outlier_detection.ejections_enforced_total');
        }
        // The 503 is retried on another pod (previous_hosts predicate).
        mesh.inc(service, 'upstream_rq_retry');
        const other = fast.find((p) => p !== pick) ?? pick;
        mesh.host(service, other.ip).rq++;
      }
    }
    if (lost) failures['503'] = (failures['503'] ?? 0) + 1;
    else created++;
  }
  const failed = count - created;
  return { offered: count, created201: created, failures, failed, p50Ms: 40, p99Ms: 180, maxMs: 250, perSecond: Array.from({ length: input.seconds }, (_, s) => ({ second: s, ok: Math.round(created / input.seconds), throttled: 0, other: s === 1 ? failed : 0 })), errors: [] };
}

const shopper = async (ctx: AwsResilienceContext): Promise<AwsShopper> => ({ key: ctx.endpoint.apiKeys[0], token: 'token', productId: 'p-1', rate: 20 });

async function leftovers(ns: string): Promise<{ filters: number; labelled: number }> {
  return { filters: (await api.list('networking.istio.io/v1alpha3', 'EnvoyFilter', ns, '')).length, labelled: (await api.list('v1', 'Pod', ns, FAULT_TARGET_LABEL)).length };
}

async function runAll(ctx: AwsResilienceContext, get?: (url: string, key: string, t: number) => Promise<Answer>) {
  const out: Record<string, Awaited<ReturnType<ReturnType<typeof awsResilienceChecks>[number]['run']>>> = {};
  for (const c of awsResilienceChecks({ quick: true }, { shopper, get })) out[c.id] = await c.run(ctx);
  return out;
}

describe('verify resilience on aws', () => {
  it('passes on a mesh that retries and ejects, with counters before/after and per-second answers, and leaves no fault behind', async () => {
    const { ctx, deleted } = await stack('res-ok', { ejects: true, retries: true });
    const r = await runAll(ctx);
    for (const id of ['resilience.replicas', 'resilience.latency', 'resilience.errors', 'resilience.kill']) assert.equal(r[id].ok, true, `${id}: ${r[id].detail}`);
    assert.equal(r['resilience.limits'].notRun, true, r['resilience.limits'].detail);
    assert.match(r['resilience.limits'].detail, /1024 connections and 1024 pending/);
    // The slow pod's share, measured from the callers' per-host rq_total.
    assert.equal((r['resilience.latency'].data as { replica: string }).replica, 'products-b');
    assert.ok(((r['resilience.latency'].data as { share: number }).share) < 0.375);
    // The failing pod is named by its health flags, and the counters are in the local report's names.
    const errors = r['resilience.errors'].data as { replica: string; ejected: boolean; counters: { before: Record<string, number>; during: Record<string, number> } };
    assert.deepEqual([errors.replica, errors.ejected], ['users-b', true]);
    assert.equal(errors.counters.during['cluster.users.outlier_detection.ejections_enforced_total'] - errors.counters.before['cluster.users.outlier_detection.ejections_enforced_total'], 1);
    const kill = r['resilience.kill'].data as { killed: { pod: string }[]; counters: Record<string, { before: Record<string, number>; after: Record<string, number> }>; perSecond: unknown[]; answers: { failures: Record<string, number> } };
    // Deleted concurrently, so in either order.
    assert.deepEqual(kill.killed.map((k) => k.pod).sort(), ['products-b', 'users-b']);
    assert.deepEqual([...deleted].sort(), ['products-b', 'users-b']);
    assert.ok('cluster.products.upstream_rq_retry' in kill.counters.products.after);
    assert.equal(kill.perSecond.length, 5);
    assert.deepEqual(await leftovers('res-ok'), { filters: 0, labelled: 0 });
  });

  it('fails the error check, with its hint, when the callers never eject the failing pod', async () => {
    const { ctx } = await stack('res-noeject', { ejects: false, retries: true });
    const check = awsResilienceChecks({ quick: true }, { shopper }).find((c) => c.id === 'resilience.errors')!;
    const r = await check.run(ctx);
    assert.equal(r.ok, false, r.detail);
    assert.match(r.detail, /not ejected/);
    assert.match(r.hint ?? '', /outlierDetection/);
    assert.deepEqual(await leftovers('res-noeject'), { filters: 0, labelled: 0 });
  });

  it('fails the kill check and shows the lost orders when the callers do not retry', async () => {
    const { ctx } = await stack('res-noretry', { ejects: true, retries: false });
    const check = awsResilienceChecks({ quick: true }, { shopper }).find((c) => c.id === 'resilience.kill')!;
    const r = await check.run(ctx);
    assert.equal(r.ok, false);
    assert.match(r.detail, /503 ×1/);
    assert.match(r.hint ?? '', /retries/);
  });

  it('removes the fault filter and label when a check throws mid-load', async () => {
    const { ctx } = await stack('res-throw', { ejects: true, retries: true }, { loadFails: true });
    for (const id of ['resilience.latency', 'resilience.errors']) {
      const check = awsResilienceChecks({ quick: true }, { shopper }).find((c) => c.id === id)!;
      await assert.rejects(check.run(ctx), /socket hang up/);
      assert.deepEqual(await leftovers('res-throw'), { filters: 0, labelled: 0 });
    }
  });

  it('stops with a hint, and removes the filter, when istiod never pushes it to the pod (no load is sent meanwhile)', async () => {
    const { ctx } = await stack('res-nopush', { ejects: true, retries: true });
    let t = 0;
    let loads = 0;
    const stale: AwsResilienceContext = {
      ...ctx,
      cluster: { ...ctx.cluster, proxyAdmin: async (n, pod, path) => (path === 'config_dump' ? '{"configs":[]}' : ctx.cluster.proxyAdmin(n, pod, path)) },
      load: async (input) => (loads++, ctx.load(input)),
      now: () => t,
      sleep: async () => void (t += 1_000),
    };
    const check = awsResilienceChecks({ quick: true }, { shopper }).find((c) => c.id === 'resilience.latency')!;
    await assert.rejects(check.run(stale), (err: Error & { hint?: string }) => /did not reach products-b within 60 s/.test(err.message) && /istioctl proxy-status/.test(err.hint ?? ''));
    assert.equal(loads, 0);
    assert.deepEqual(await leftovers('res-nopush'), { filters: 0, labelled: 0 });
  });

  it('pushes past small connection limits through the ingress and expects fast 503s, none hanging', async () => {
    const { ctx, mesh } = await stack('res-limits', { ejects: true, retries: true }, { smallPools: true });
    await runningPod('res-limits', 'meshgw-istio-a', 'meshgw-istio', '10.1.2.1', { 'gateway.networking.k8s.io/gateway-name': 'meshgw' });
    const check = awsResilienceChecks({ quick: true }, { shopper }).find((c) => c.id === 'resilience.limits')!;
    let inFlight = 0;
    let faultSeen = 0;
    // Playing the ingress gateway: (4 connections + 4 pending) per pod are held by the slowed pods, the rest is
    // refused at once with Envoy's overflow reply, which API Gateway passes through.
    const get = async (): Promise<Answer> => {
      const n = ++inFlight;
      if (n === 1) faultSeen = (await faultsInForce('res-limits')).length;
      if (n <= 16) return { status: 200, ms: 1600, reason: '' };
      mesh.inc('products', 'upstream_rq_pending_overflow');
      return { status: 503, ms: 3, reason: 'x-envoy-overloaded upstream connect error or disconnect/reset before headers. reset reason: overflow' };
    };
    const r = await awsResilienceChecks({ quick: true }, { shopper, get }).find((c) => c.id === 'resilience.limits')!.run(ctx);
    assert.equal(check.id, 'resilience.limits');
    assert.equal(faultSeen, 2, 'both products pods slowed while the requests were in flight');
    assert.equal(r.notRun, undefined, r.detail);
    assert.equal(r.ok, true, r.detail);
    assert.deepEqual([(r.data as { pushed: number }).pushed, (r.data as { refused503: number }).refused503, (r.data as { overflow: number }).overflow], [26, 10, 10]);
    assert.deepEqual(await leftovers('res-limits'), { filters: 0, labelled: 0 });
  });
});
