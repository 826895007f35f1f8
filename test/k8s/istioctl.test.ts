/**
 * Real component: istioctl, built from source by .ci/setup.d/60-istioctl.sh (a 2026-08 master commit, the
 * 1.31 development line; the Go proxy refuses the release tags' commits), run offline on exactly what
 * `meshgw deploy --dry-run` prints for the repo's meshgw.yaml (the real CLI, in a scratch folder so no
 * pushed-image record changes the output), with the upstream CRDs beside it.
 *
 * The CRDs are Istio 1.28.0's while meshgw pins 1.31: they are the files vendored byte-for-byte (issue 12).
 * Acceptable because every kind and field meshgw renders (PeerAuthentication, AuthorizationPolicy, Telemetry
 * v1; Gateway, HTTPRoute v1) is already in 1.28's schema, and istioctl validates Istio's own kinds against the
 * protos compiled into it (the 1.31 line), not against the CRD files. The risk left: a field 1.31 added to a
 * CRD would pass here and fail on a cluster with 1.28 CRDs, and the reverse; Istio installs its CRDs with
 * istiod, so a cluster runs the 1.31 CRDs.
 */
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { copyFile, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { execa } from 'execa';
import { parse, parseAllDocuments, stringify } from 'yaml';
import type { K8sObject } from '../../src/k8s/manifests/index.js';
import { MESH_STATS_MATCHER, PROXY_CONFIG_ANNOTATION } from '../../src/k8s/manifests/proxy-stats.js';
import { ISTIO_VERSION, istioctlArgs } from '../../src/k8s/mesh-install.js';
import { toolBin } from '../support/tools.js';
import { repoConfig } from './fixtures.js';

const repoRoot = new URL('../../../', import.meta.url).pathname;
const cliMain = new URL('../../src/cli/main.js', import.meta.url).pathname;

/**
 * Findings istioctl may report that we keep, each with the reason. Empty: every finding fails the suite.
 * (The three `may not provide Istio metrics and telemetry labels` warnings were fixed with `version` labels.)
 */
const ALLOWED_FINDINGS: { match: RegExp; reason: string }[] = [];

function crdFiles(): string[] {
  // H1 vendors the upstream CRDs into test/fixtures/crds/; the shared folder holds the same bytes.
  const base = [path.join(repoRoot, 'test/fixtures/crds'), '/work/shared/crds'].find((d) => existsSync(path.join(d, 'istio-1.28.0/crd-all.gen.yaml')));
  assert.ok(base, 'the upstream CRDs (istio-1.28.0/, gateway-api-v1.4.0/) are vendored in test/fixtures/crds/');
  return [path.join(base, 'istio-1.28.0/crd-all.gen.yaml'), path.join(base, 'gateway-api-v1.4.0')];
}

async function istioctl(args: string[]): Promise<{ exitCode: number; stdout: string; stderr: string }> {
  // KUBECONFIG points nowhere: every call here must work without a cluster.
  const r = await execa(toolBin('istioctl'), args, { reject: false, timeout: 120_000, env: { KUBECONFIG: '/nonexistent/kubeconfig' } });
  return { exitCode: r.exitCode ?? -1, stdout: r.stdout, stderr: r.stderr };
}

const docs = (text: string): K8sObject[] => parseAllDocuments(text).map((d) => d.toJS() as K8sObject).filter((o) => o?.kind);

let dir: string;
let dryRunFile: string;
let objects: K8sObject[];
let meshFile: string;
let injectFile: string;
let valuesFile: string;

before(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'meshgw-istioctl-'));
  await copyFile(path.join(repoRoot, 'meshgw.yaml'), path.join(dir, 'meshgw.yaml'));
  const dry = await execa(process.execPath, [cliMain, '-c', path.join(dir, 'meshgw.yaml'), 'deploy', '--dry-run'], { cwd: dir, reject: false, timeout: 60_000 });
  assert.equal(dry.exitCode, 0, dry.stderr);
  dryRunFile = path.join(dir, 'dry-run.yaml');
  await writeFile(dryRunFile, dry.stdout);
  objects = docs(dry.stdout);
  // The mesh as deploy installs it: istioctl's own charts rendered with deploy's flags (minus `install -y`).
  const gen = await istioctl(['manifest', 'generate', ...istioctlArgs(repoConfig()).slice(2)]);
  assert.equal(gen.exitCode, 0, gen.stderr);
  const configMaps = docs(gen.stdout).filter((o) => o.kind === 'ConfigMap');
  const data = (name: string) => (configMaps.find((o) => o.metadata.name === name)?.data ?? {}) as Record<string, string>;
  meshFile = path.join(dir, 'mesh.yaml');
  injectFile = path.join(dir, 'inject.yaml');
  valuesFile = path.join(dir, 'values.json');
  await writeFile(meshFile, data('istio').mesh);
  await writeFile(injectFile, data('istio-sidecar-injector').config);
  await writeFile(valuesFile, data('istio-sidecar-injector').values);
});

after(async () => {
  await rm(dir, { recursive: true, force: true });
});

const unexplained = (findings: string[]) => findings.filter((f) => !ALLOWED_FINDINGS.some((a) => a.match.test(f)));

describe('istioctl on what deploy --dry-run renders', () => {
  it('analyze (offline, with the mesh config deploy installs) reports no error and no unexplained warning', async () => {
    const crds = crdFiles();
    const crdArgs = [crds[0], ...(await readdir(crds[1])).filter((f) => f.endsWith('.yaml')).map((f) => path.join(crds[1], f))];
    // --all-namespaces: without it analyze reports on namespace `default` only, where meshgw renders nothing.
    const r = await istioctl(['analyze', '--all-namespaces', '--use-kube=false', '--meshConfigFile', meshFile, '-o', 'json', dryRunFile, ...crdArgs]);
    assert.equal(r.exitCode, 0, r.stderr);
    const messages = JSON.parse(r.stdout) as { code: string; level: string; message: string }[];
    assert.deepEqual(messages.filter((m) => m.level === 'Error'), []);
    assert.deepEqual(unexplained(messages.map((m) => `${m.code} ${m.level}: ${m.message}`)), []);
  });

  it('validate accepts every object with no unexplained warning', async () => {
    const r = await istioctl(['validate', '-f', dryRunFile]);
    assert.equal(r.exitCode, 0, r.stderr);
    const lines = `${r.stdout}\n${r.stderr}`.split('\n').map((l) => l.trim()).filter(Boolean);
    assert.ok(lines.includes(`"${dryRunFile}" is valid`), lines.join('\n'));
    assert.deepEqual(unexplained(lines.filter((l) => l !== `"${dryRunFile}" is valid`)), []);
  });

  it('validate warns about a Deployment without a version label, so the check above can see a warning', async () => {
    const stripped = objects.map((o) => (o.kind === 'Deployment' ? withoutVersionLabel(o) : o));
    const file = path.join(dir, 'no-version.yaml');
    await writeFile(file, stripped.map((o) => stringify(o)).join('---\n'));
    const r = await istioctl(['validate', '-f', file]);
    assert.match(`${r.stdout}\n${r.stderr}`, /deployment "users\/meshgw:" may not provide Istio metrics and telemetry labels/);
  });

  it('validate rejects a PeerAuthentication with an unknown mode and a Telemetry sampling more than 100%', async () => {
    for (const [kind, edit, expected] of [
      ['PeerAuthentication', (o: K8sObject) => ((o.spec as { mtls: { mode: string } }).mtls.mode = 'STRIKT'), /unknown value "\\"STRIKT\\"" for enum/],
      ['Telemetry', (o: K8sObject) => ((o.spec as { tracing: { randomSamplingPercentage: number }[] }).tracing[0].randomSamplingPercentage = 300), /randomSamplingPercentage must be in range/],
    ] as const) {
      const broken = structuredClone(objects.find((o) => o.kind === kind)!);
      edit(broken);
      const file = path.join(dir, `broken-${kind}.yaml`);
      await writeFile(file, stringify(broken));
      const r = await istioctl(['validate', '-f', file]);
      assert.notEqual(r.exitCode, 0, `${kind} accepted`);
      assert.match(r.stderr, expected);
    }
  });

  it('deploy installs the tracing provider the Telemetry names, pointing at the rendered collector Service', () => {
    const telemetry = objects.find((o) => o.kind === 'Telemetry');
    assert.ok(telemetry, 'deploy --dry-run renders a Telemetry');
    const tracing = (telemetry.spec as { tracing: { providers: { name: string }[]; randomSamplingPercentage: number }[] }).tracing[0];
    assert.ok(tracing.randomSamplingPercentage > 0 && tracing.randomSamplingPercentage <= 100);
    const mesh = parse(readFileSync(meshFile, 'utf8')) as { extensionProviders: { name: string; opentelemetry?: { service: string; port: number } }[] };
    const provider = mesh.extensionProviders.find((p) => p.name === tracing.providers[0].name);
    assert.ok(provider?.opentelemetry, `meshConfig has an opentelemetry provider named ${tracing.providers[0].name}`);
    const [svcName, svcNs] = provider.opentelemetry.service.split('.');
    assert.equal(provider.opentelemetry.service, `${svcName}.${svcNs}.svc.cluster.local`);
    const service = objects.find((o) => o.kind === 'Service' && o.metadata.name === svcName && o.metadata.namespace === svcNs);
    assert.ok(service, `the dry run renders Service ${svcNs}/${svcName}`);
    const port = (service.spec as { ports: { port: number; appProtocol?: string }[] }).ports.find((p) => p.port === provider.opentelemetry!.port);
    assert.equal(port?.appProtocol, 'grpc');
    // The names the stack's PodIdentityAssociation binds (src/aws/, helper H4).
    const deployment = objects.find((o) => o.kind === 'Deployment' && o.metadata.namespace === svcNs);
    assert.equal(svcNs, 'meshgw-telemetry');
    const pod = (deployment?.spec as { template: { spec: { serviceAccountName: string; containers: { ports: { name: string; containerPort: number }[] }[] } } }).template.spec;
    assert.equal(pod.serviceAccountName, 'adot-collector');
    // The collector listens where the Service sends (0.0.0.0: the collector's default host is localhost) and exports to X-Ray in the stack's region.
    const collector = parse(Object.values((objects.find((o) => o.kind === 'ConfigMap' && o.metadata.namespace === svcNs)?.data ?? {}) as Record<string, string>)[0]) as {
      receivers: { otlp: { protocols: { grpc: { endpoint: string } } } };
      exporters: { awsxray: { region: string } };
      service: { pipelines: { traces: { receivers: string[]; exporters: string[] } } };
    };
    const targetPort = (service.spec as { ports: { port: number; targetPort: string }[] }).ports[0].targetPort;
    const containerPort = pod.containers[0].ports.find((p) => p.name === targetPort)?.containerPort;
    assert.equal(collector.receivers.otlp.protocols.grpc.endpoint, `0.0.0.0:${containerPort}`);
    assert.equal(collector.exporters.awsxray.region, repoConfig().aws.region);
    assert.deepEqual(collector.service.pipelines.traces, { receivers: ['otlp'], processors: ['batch'], exporters: ['awsxray'] });
  });

  it(`kube-inject turns the stats annotation into each sidecar's PROXY_CONFIG, on Istio ${ISTIO_VERSION} proxies`, async () => {
    const apps = objects.filter((o) => o.kind === 'Deployment' && o.metadata.namespace === repoConfig().mesh.namespace);
    assert.equal(apps.length, 3);
    for (const app of apps) {
      const annotations = (app.spec as { template: { metadata: { annotations?: Record<string, string> } } }).template.metadata.annotations ?? {};
      assert.ok(annotations[PROXY_CONFIG_ANNOTATION], `${app.metadata.name} carries ${PROXY_CONFIG_ANNOTATION} in the dry run`);
      const proxy = await injectedProxy(app);
      assert.deepEqual(JSON.parse(proxy.proxyConfig).proxyStatsMatcher, MESH_STATS_MATCHER, app.metadata.name);
      assert.ok(proxy.image.endsWith(`/proxyv2:${ISTIO_VERSION}`), proxy.image);
    }
  });

  it('kube-inject drops a misspelt ProxyConfig field silently, which the check above would catch', async () => {
    const app = structuredClone(objects.find((o) => o.kind === 'Deployment' && o.metadata.name === 'users')!);
    const annotations = (app.spec as { template: { metadata: { annotations: Record<string, string> } } }).template.metadata.annotations;
    annotations[PROXY_CONFIG_ANNOTATION] = annotations[PROXY_CONFIG_ANNOTATION].replace('proxyStatsMatcher', 'proxyStatsMatchers');
    const proxy = await injectedProxy(app);
    assert.equal(JSON.parse(proxy.proxyConfig).proxyStatsMatcher, undefined);
  });
});

function withoutVersionLabel(o: K8sObject): K8sObject {
  const copy = structuredClone(o);
  delete (copy.spec as { template: { metadata: { labels: Record<string, string> } } }).template.metadata.labels.version;
  return copy;
}

/** Istio's sidecar injection, offline (`-r default` keeps it from looking up the cluster's revision). */
async function injectedProxy(deployment: K8sObject): Promise<{ proxyConfig: string; image: string }> {
  const file = path.join(dir, `inject-${deployment.metadata.name}.yaml`);
  await writeFile(file, stringify(deployment));
  const r = await istioctl(['kube-inject', '-r', 'default', '-f', file, '--meshConfigFile', meshFile, '--injectConfigFile', injectFile, '--valuesFile', valuesFile]);
  assert.equal(r.exitCode, 0, r.stderr);
  const injected = docs(r.stdout)[0];
  const containers = (injected.spec as { template: { spec: { containers: { name: string; image: string; env?: { name: string; value?: string }[] }[] } } }).template.spec.containers;
  const proxy = containers.find((c) => c.name === 'istio-proxy');
  assert.ok(proxy, 'a sidecar was injected');
  const proxyConfig = proxy.env?.find((e) => e.name === 'PROXY_CONFIG')?.value;
  assert.ok(proxyConfig !== undefined, 'the sidecar gets PROXY_CONFIG');
  return { proxyConfig, image: proxy.image };
}
