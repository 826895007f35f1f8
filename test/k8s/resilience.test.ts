// Real components: the rendered objects for replicas: 2 and a custom trafficPolicy go to a REAL kube-apiserver
// (+ etcd) with the upstream CRDs installed (Gateway API v1.4.0 standard, Istio 1.28.0), which checks
// DestinationRule, VirtualService and HTTPRoute against the CRDs' schemas and CEL rules and the
// PodDisruptionBudget and Deployment against Kubernetes' own; kubernetes-validate --strict checks the
// built-in kinds for aws.kubernetesVersion; istioctl (built by .ci/setup.d/60-istioctl.sh) runs `analyze`
// offline with the mesh config deploy installs, and `validate`. Shape tests read the plain render.
import assert from 'node:assert/strict';
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { execa } from 'execa';
import { parseAllDocuments } from 'yaml';
import type { MeshgwConfig } from '../../src/config/schema.js';
import { trafficPolicySchema } from '../../src/config/traffic-policy.js';
import { MeshgwError } from '../../src/errors.js';
import { applyObjects } from '../../src/k8s/apply.js';
import { createClusterApi } from '../../src/k8s/client.js';
import type { ClusterApi } from '../../src/k8s/cluster.js';
import { manifestsToYaml, renderManifests, type K8sObject } from '../../src/k8s/manifests/index.js';
import { gatewayDuration, istioDuration, RETRY_ON_SAFE, RETRY_ON_UNPROCESSED } from '../../src/k8s/manifests/resilience.js';
import { istioctlArgs } from '../../src/k8s/mesh-install.js';
import { GATEWAY_API_CRD_DIR, ISTIO_CRD_FILE } from '../support/real-crds.js';
import { startRealCluster, type RealCluster } from '../support/real-cluster.js';
import { toolBin, venvBin } from '../support/tools.js';
import { configIn, images, missingPaths } from './fixtures.js';

/** The repository config with users and products at two replicas and a tight policy on users. */
function resilientConfig(namespace: string): MeshgwConfig {
  const cfg = configIn(namespace);
  const policy = trafficPolicySchema.parse({
    timeoutMs: 1500,
    retries: { attempts: 3, perTryTimeoutMs: 400, budgetPercent: 25, minRetryConcurrency: 1 },
    outlierDetection: { consecutiveErrors: 2, baseEjectionTimeMs: 5000, maxEjectionPercent: 34 },
    connectionPool: { maxConnections: 16, maxPendingRequests: 8 },
  });
  return {
    ...cfg,
    services: {
      ...cfg.services,
      users: { ...cfg.services.users, replicas: 2, trafficPolicy: policy },
      products: { ...cfg.services.products, replicas: 2 },
    },
  };
}

function render(cfg: MeshgwConfig): K8sObject[] {
  return renderManifests({ config: cfg, images: images(), ingressNodePort: 30080, tokenSecret: 's'.repeat(43) });
}

const find = (objects: K8sObject[], kind: string, name: string) => objects.find((o) => o.kind === kind && o.metadata.name === name);

interface DestinationRuleSpec {
  host: string;
  trafficPolicy: {
    loadBalancer: { simple: string };
    connectionPool: { tcp: { maxConnections: number }; http: { http1MaxPendingRequests: number } };
    outlierDetection: { consecutive5xxErrors: number; interval: string; baseEjectionTime: string; maxEjectionPercent: number };
    retryBudget: { percent: number; minRetryConcurrency: number };
  };
}
interface HttpRouteView {
  name: string;
  match?: { method?: { exact: string }; headers?: Record<string, { regex: string }> }[];
  timeout: string;
  retries: { attempts: number; perTryTimeout?: string; retryOn?: string };
}

describe('resilience manifests (shape)', () => {
  const objects = render(resilientConfig('meshgw'));

  it('run each Deployment with its service`s replicas, spread across zones then nodes without ever blocking scheduling', () => {
    const replicas = (n: string) => (find(objects, 'Deployment', n)?.spec as { replicas: number }).replicas;
    assert.deepEqual([replicas('users'), replicas('products'), replicas('orders')], [2, 2, 1]);
    const pod = (find(objects, 'Deployment', 'users')?.spec as { template: { spec: { topologySpreadConstraints: Record<string, unknown>[] } } }).template.spec;
    assert.deepEqual(pod.topologySpreadConstraints.map((c) => [c.topologyKey, c.maxSkew, c.whenUnsatisfiable]), [
      ['topology.kubernetes.io/zone', 1, 'ScheduleAnyway'],
      ['kubernetes.io/hostname', 1, 'ScheduleAnyway'],
    ]);
    assert.deepEqual(pod.topologySpreadConstraints[0].labelSelector, { matchLabels: { 'app.kubernetes.io/name': 'users' } });
  });

  it('give a PodDisruptionBudget of maxUnavailable 1 to services with two replicas, and none to a single replica', () => {
    const budgets = objects.filter((o) => o.kind === 'PodDisruptionBudget');
    assert.deepEqual(budgets.map((b) => b.metadata.name).sort(), ['products', 'users']);
    const spec = budgets[0].spec as { maxUnavailable: number; minAvailable?: number; selector: { matchLabels: Record<string, string> } };
    assert.equal(spec.maxUnavailable, 1);
    assert.equal(spec.minAvailable, undefined, 'minAvailable would block drains at replicas == minAvailable');
    assert.deepEqual(spec.selector.matchLabels, { 'app.kubernetes.io/name': budgets[0].metadata.name });
    const deploymentIndex = objects.findIndex((o) => o.kind === 'Deployment' && o.metadata.name === budgets[0].metadata.name);
    assert.ok(objects.indexOf(budgets[0]) > deploymentIndex, 'the budget is applied after its Deployment');
  });

  it('carry the trafficPolicy into one DestinationRule per service: least request, connection limits, outlier detection and the retry budget', () => {
    const rules = objects.filter((o) => o.kind === 'DestinationRule');
    assert.deepEqual(rules.map((r) => r.metadata.name).sort(), ['orders', 'products', 'users'], 'one per host: istioctl flags two rules for one host');
    const users = find(objects, 'DestinationRule', 'users')?.spec as DestinationRuleSpec;
    assert.equal(users.host, 'users.meshgw.svc.cluster.local');
    assert.deepEqual(users.trafficPolicy, {
      loadBalancer: { simple: 'LEAST_REQUEST' },
      connectionPool: { tcp: { maxConnections: 16 }, http: { http1MaxPendingRequests: 8 } },
      outlierDetection: { consecutive5xxErrors: 2, interval: '10s', baseEjectionTime: '5s', maxEjectionPercent: 34 },
      retryBudget: { percent: 25, minRetryConcurrency: 1 },
    });
    const orders = find(objects, 'DestinationRule', 'orders')?.spec as DestinationRuleSpec;
    assert.equal(orders.trafficPolicy.outlierDetection.baseEjectionTime, '30s', 'the default policy where the config sets none');
  });

  it('retry idempotent or keyed calls on 5xx, and other POSTs only when the request never reached the app', () => {
    assert.deepEqual(objects.filter((o) => o.kind === 'VirtualService').map((o) => o.metadata.name).sort(), ['products', 'users'], 'only services called inside the mesh');
    const spec = find(objects, 'VirtualService', 'users')?.spec as { hosts: string[]; gateways?: string[]; http: HttpRouteView[] };
    assert.deepEqual(spec.hosts, ['users.meshgw.svc.cluster.local']);
    assert.equal(spec.gateways, undefined, 'bound to the mesh only');
    const [safe, rest] = spec.http;
    assert.deepEqual(safe.match?.map((m) => m.method?.exact ?? Object.keys(m.headers ?? {})[0]), ['GET', 'HEAD', 'OPTIONS', 'PUT', 'DELETE', 'idempotency-key']);
    assert.deepEqual(safe.retries, { attempts: 3, perTryTimeout: '0.4s', retryOn: RETRY_ON_SAFE });
    assert.equal(rest.match, undefined, 'the catch-all comes last');
    assert.deepEqual(rest.retries, { attempts: 3, perTryTimeout: '0.4s', retryOn: RETRY_ON_UNPROCESSED });
    assert.doesNotMatch(RETRY_ON_UNPROCESSED, /5xx|reset|gateway-error|retriable-status-codes/);
    assert.deepEqual([safe.timeout, rest.timeout], ['1.5s', '1.5s']);
  });

  it('turn retries off entirely when attempts is 0', () => {
    const cfg = resilientConfig('meshgw');
    cfg.services.users.trafficPolicy = trafficPolicySchema.parse({ retries: { attempts: 0 } });
    const spec = find(render(cfg), 'VirtualService', 'users')?.spec as { http: HttpRouteView[] };
    assert.deepEqual(spec.http.map((h) => h.retries), [{ attempts: 0 }, { attempts: 0 }]);
  });

  it('bound each ingress route by the service`s timeout, in Gateway API`s duration form', () => {
    const rule = (n: string) => (find(objects, 'HTTPRoute', n)?.spec as { rules: { timeouts: { request: string } }[] }).rules[0].timeouts;
    assert.deepEqual(rule('users'), { request: '1s500ms' });
    assert.deepEqual(rule('orders'), { request: '10s' });
  });

  it('write durations as each API parses them', () => {
    assert.deepEqual([1, 250, 1500, 10_000, 3_600_000].map(gatewayDuration), ['1ms', '250ms', '1s500ms', '10s', '3600s']);
    for (const d of [1, 250, 1500, 10_000, 3_600_000].map(gatewayDuration)) assert.match(d, /^([0-9]{1,5}(h|m|s|ms)){1,4}$/);
    assert.deepEqual([1, 400, 1500, 30_000].map(istioDuration), ['0.001s', '0.4s', '1.5s', '30s']);
  });
});

let cluster: RealCluster;
let api: ClusterApi;
let dir: string;

before(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'meshgw-resilience-'));
  cluster = await startRealCluster({ crds: true });
  api = createClusterApi(cluster.kubeConfig);
});
after(async () => {
  await cluster?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

async function assertRefused(obj: K8sObject, reason: RegExp): Promise<void> {
  await assert.rejects(applyObjects(api, [obj]), (err: unknown) => {
    assert.ok(err instanceof MeshgwError, `a MeshgwError, got ${String(err)}`);
    assert.ok(err.message.includes(`${obj.kind}/${obj.metadata.namespace}/${obj.metadata.name}`), err.message);
    assert.match(err.message, reason);
    return true;
  });
  assert.equal(await api.read(obj), undefined, 'nothing was stored');
}

describe('resilience manifests on a real kube-apiserver with the real CRDs', () => {
  it('are all accepted and stored with every field meshgw sent (replicas 2, custom policy)', async () => {
    const objects = render(resilientConfig('resilient'));
    await applyObjects(api, objects);
    for (const kind of ['PodDisruptionBudget', 'DestinationRule', 'VirtualService', 'HTTPRoute', 'Deployment']) {
      const ofKind = objects.filter((o) => o.kind === kind);
      assert.ok(ofKind.length > 0, `${kind} rendered`);
      for (const o of ofKind) assert.deepEqual(missingPaths(o, await api.read(o)), [], `${o.kind}/${o.metadata.name} kept every field`);
    }
  });

  it('refuse a DestinationRule duration the CRD`s CEL rule cannot parse, and an HTTPRoute timeout with a decimal', async () => {
    const objects = render(resilientConfig('baddurations'));
    await applyObjects(api, objects.filter((o) => o.kind === 'Namespace'));
    const rule = structuredClone(find(objects, 'DestinationRule', 'users')!);
    (rule.spec as DestinationRuleSpec).trafficPolicy.outlierDetection.baseEjectionTime = '5 seconds';
    await assertRefused(rule, /must be a valid duration greater than 1ms/);
    const route = structuredClone(find(objects, 'HTTPRoute', 'users')!);
    (route.spec as { rules: { timeouts: { request: string } }[] }).rules[0].timeouts.request = '1.5s';
    await assertRefused(route, /timeouts\.request/);
  });

  it('pass kubernetes-validate --strict for aws.kubernetesVersion (PodDisruptionBudget, spread Deployments)', async () => {
    const cfg = resilientConfig('meshgw');
    const core = render(cfg).filter((o) => !/istio\.io|gateway\.networking\.k8s\.io/.test(o.apiVersion));
    const file = path.join(dir, 'core.yaml');
    await writeFile(file, manifestsToYaml(core, { maskSecrets: false }));
    const r = await execa(venvBin('kubernetes-validate'), ['-k', `${cfg.aws.kubernetesVersion}.0`, '--strict', file], { reject: false });
    assert.equal(r.exitCode, 0, `${r.stdout}\n${r.stderr}`);
    assert.match(r.stdout, /passed for resource poddisruptionbudget\/users/);
  });
});

/**
 * `analyze` needs --all-namespaces: without it, it reports on namespace `default` only and would pass
 * whatever meshgw renders into its own namespace (the IST0109 test below fails without the flag).
 */
async function istioctl(args: string[]): Promise<{ exitCode: number; stdout: string; stderr: string }> {
  // KUBECONFIG points nowhere: every call here must work without a cluster.
  const r = await execa(toolBin('istioctl'), args, { reject: false, timeout: 120_000, env: { KUBECONFIG: '/nonexistent/kubeconfig' } });
  return { exitCode: r.exitCode ?? -1, stdout: r.stdout, stderr: r.stderr };
}

/** The upstream CRD files, so analyze knows the Istio and Gateway API kinds as a cluster would. */
async function crdFiles(): Promise<string[]> {
  const gateway = (await readdir(GATEWAY_API_CRD_DIR)).filter((f) => f.endsWith('.yaml')).map((f) => path.join(GATEWAY_API_CRD_DIR, f));
  return [ISTIO_CRD_FILE, ...gateway];
}

describe('istioctl on the resilience manifests', () => {
  it('analyze (offline, with deploy`s mesh config and the real CRDs) reports no error and no warning', async () => {
    const cfg = resilientConfig('meshgw');
    const file = path.join(dir, 'resilient.yaml');
    await writeFile(file, manifestsToYaml(render(cfg)));
    const gen = await istioctl(['manifest', 'generate', ...istioctlArgs(cfg).slice(2)]);
    assert.equal(gen.exitCode, 0, gen.stderr);
    const istioMap = parseAllDocuments(gen.stdout).map((d) => d.toJS() as K8sObject | null).find((o) => o?.kind === 'ConfigMap' && o.metadata.name === 'istio');
    const meshFile = path.join(dir, 'mesh.yaml');
    await writeFile(meshFile, (istioMap?.data as { mesh: string }).mesh);
    const r = await istioctl(['analyze', '--all-namespaces', '--use-kube=false', '--meshConfigFile', meshFile, '-o', 'json', file, ...(await crdFiles())]);
    assert.equal(r.exitCode, 0, r.stderr);
    const messages = JSON.parse(r.stdout) as { code: string; level: string; message: string }[];
    assert.deepEqual(messages.map((m) => `${m.code} ${m.level}: ${m.message}`), []);
  });

  it('analyze flags a second mesh VirtualService for the same host (IST0109), so the check above can see a finding', async () => {
    const objects = render(resilientConfig('meshgw'));
    const twin = structuredClone(find(objects, 'VirtualService', 'users')!);
    twin.metadata.name = 'users-twin';
    const file = path.join(dir, 'twin.yaml');
    await writeFile(file, manifestsToYaml([...objects, twin]));
    const r = await istioctl(['analyze', '--all-namespaces', '--use-kube=false', '-o', 'json', file, ...(await crdFiles())]);
    const messages = JSON.parse(r.stdout || '[]') as { code: string; message: string }[];
    assert.ok(messages.some((m) => m.code === 'IST0109'), JSON.stringify(messages));
  });

  it('validate accepts every object', async () => {
    const file = path.join(dir, 'validate.yaml');
    await writeFile(file, manifestsToYaml(render(resilientConfig('meshgw'))));
    const r = await istioctl(['validate', '-f', file]);
    assert.equal(r.exitCode, 0, r.stderr);
    assert.match(`${r.stdout}\n${r.stderr}`, /is valid/);
    assert.doesNotMatch(`${r.stdout}\n${r.stderr}`, /warn/i);
  });
});
