/**
 * Tracing inside the mesh to AWS X-Ray: an ADOT collector (OTLP gRPC in, awsxray exporter out) in its own
 * namespace, and an Istio `Telemetry` that makes every sidecar in the mesh namespace send spans to it through
 * the `opentelemetry` extension provider mesh-install.ts registers in meshConfig. The collector signs its X-Ray
 * calls with the role the CloudFormation stack binds to namespace/ServiceAccount below through an
 * AWS::EKS::PodIdentityAssociation, so these two names are a contract with src/aws/.
 */
import { stringify } from 'yaml';
import type { MeshgwConfig } from '../../config/schema.js';
import { APP_LABEL } from '../labels.js';
import { meshEmfExporter, meshPrometheusReceiver, renderMeshMetricsRbac } from './mesh-metrics.js';
import { meta } from './meta.js';
import type { K8sObject } from './types.js';

export const TELEMETRY_NAMESPACE = 'meshgw-telemetry';
/** The ServiceAccount the stack's PodIdentityAssociation names. */
export const ADOT_SERVICE_ACCOUNT = 'adot-collector';
export const ADOT_SERVICE = 'adot-collector';
export const ADOT_OTLP_GRPC_PORT = 4317;
/** The collector's health_check extension, which the kubelet probes. */
const ADOT_HEALTH_PORT = 13133;
/** ADOT Collector v0.50.0 (2026-08-31, OpenTelemetry Collector v0.158.0), from AWS's public ECR. */
const ADOT_VERSION = 'v0.50.0';
export const ADOT_IMAGE = `public.ecr.aws/aws-observability/aws-otel-collector:${ADOT_VERSION}`;
/** The extensionProviders entry name in meshConfig; the Telemetry object refers to it. */
export const TRACING_PROVIDER = 'meshgw-xray';
/**
 * Share of requests traced. X-Ray bills per trace recorded, and a shop under load test makes many: one
 * request in ten shows every path without paying for all of them.
 */
export const TRACE_SAMPLING_PERCENT = 10;
export const TELEMETRY_NAME = 'mesh-tracing';
const ADOT_CONFIGMAP = 'adot-collector-config';

/** The collector's service DNS name, as meshConfig's opentelemetry provider must name it (FQDN). */
export function adotServiceHost(): string {
  return `${ADOT_SERVICE}.${TELEMETRY_NAMESPACE}.svc.cluster.local`;
}

/**
 * OpenTelemetry Collector configuration. Receivers and extensions bind 0.0.0.0 explicitly: since collector
 * v0.104 their default host is localhost, which neither the sidecars nor the kubelet's probes can reach.
 * Two pipelines: the sidecars' spans to X-Ray, and their mTLS/RBAC counters to CloudWatch (mesh-metrics.ts).
 */
export function adotCollectorConfig(cfg: MeshgwConfig): string {
  return stringify({
    extensions: { health_check: { endpoint: `0.0.0.0:${ADOT_HEALTH_PORT}` } },
    receivers: { otlp: { protocols: { grpc: { endpoint: `0.0.0.0:${ADOT_OTLP_GRPC_PORT}` } } }, prometheus: meshPrometheusReceiver(cfg) },
    processors: { batch: { timeout: '5s' } },
    exporters: { awsxray: { region: cfg.aws.region }, awsemf: meshEmfExporter(cfg) },
    service: {
      extensions: ['health_check'],
      pipelines: {
        traces: { receivers: ['otlp'], processors: ['batch'], exporters: ['awsxray'] },
        metrics: { receivers: ['prometheus'], processors: ['batch'], exporters: ['awsemf'] },
      },
    },
  });
}

function renderCollectorDeployment(): K8sObject {
  const labels = { [APP_LABEL]: ADOT_SERVICE, version: ADOT_VERSION };
  const probe = { httpGet: { path: '/', port: 'health' }, periodSeconds: 10, timeoutSeconds: 2 };
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: meta(ADOT_SERVICE, TELEMETRY_NAMESPACE, { [APP_LABEL]: ADOT_SERVICE }),
    spec: {
      replicas: 1,
      selector: { matchLabels: { [APP_LABEL]: ADOT_SERVICE } },
      template: {
        metadata: { labels },
        spec: {
          serviceAccountName: ADOT_SERVICE_ACCOUNT,
          // The prometheus receiver lists the mesh namespace's pods (kubernetes_sd) with this token, under the
          // Role renderMeshMetricsRbac grants; AWS credentials come from EKS Pod Identity's own projected token.
          automountServiceAccountToken: true,
          securityContext: { runAsNonRoot: true, runAsUser: 10001, runAsGroup: 10001, seccompProfile: { type: 'RuntimeDefault' } },
          containers: [
            {
              name: 'collector',
              image: ADOT_IMAGE,
              imagePullPolicy: 'IfNotPresent',
              args: ['--config=/conf/collector.yaml'],
              ports: [
                { name: 'otlp-grpc', containerPort: ADOT_OTLP_GRPC_PORT, protocol: 'TCP' },
                { name: 'health', containerPort: ADOT_HEALTH_PORT, protocol: 'TCP' },
              ],
              readinessProbe: probe,
              livenessProbe: { ...probe, initialDelaySeconds: 10 },
              resources: { requests: { cpu: '50m', memory: '128Mi' }, limits: { cpu: '500m', memory: '512Mi' } },
              securityContext: { allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: { drop: ['ALL'] } },
              volumeMounts: [
                { name: 'config', mountPath: '/conf', readOnly: true },
                { name: 'tmp', mountPath: '/tmp' },
              ],
            },
          ],
          volumes: [
            { name: 'config', configMap: { name: ADOT_CONFIGMAP } },
            { name: 'tmp', emptyDir: {} },
          ],
        },
      },
    },
  };
}

/** The namespace, identity, configuration, Deployment and Service of the collector. */
export function renderTracingCollector(cfg: MeshgwConfig): K8sObject[] {
  return [
    // No sidecar: the collector only receives from sidecars (auto mTLS sends it plaintext OTLP when no proxy
    // answers), scrapes their agent port 15020 (which Istio never intercepts), and calls X-Ray, CloudWatch
    // Logs and the Pod Identity agent, which a mesh policy must never block.
    { apiVersion: 'v1', kind: 'Namespace', metadata: meta(TELEMETRY_NAMESPACE, undefined, { 'istio-injection': 'disabled' }) },
    { apiVersion: 'v1', kind: 'ServiceAccount', metadata: meta(ADOT_SERVICE_ACCOUNT, TELEMETRY_NAMESPACE, { [APP_LABEL]: ADOT_SERVICE }), automountServiceAccountToken: false },
    { apiVersion: 'v1', kind: 'ConfigMap', metadata: meta(ADOT_CONFIGMAP, TELEMETRY_NAMESPACE), data: { 'collector.yaml': adotCollectorConfig(cfg) } },
    renderCollectorDeployment(),
    ...renderMeshMetricsRbac(cfg, { namespace: TELEMETRY_NAMESPACE, serviceAccount: ADOT_SERVICE_ACCOUNT }),
    {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: meta(ADOT_SERVICE, TELEMETRY_NAMESPACE, { [APP_LABEL]: ADOT_SERVICE }),
      spec: {
        type: 'ClusterIP',
        selector: { [APP_LABEL]: ADOT_SERVICE },
        // `grpc` (name prefix and appProtocol) tells Istio the protocol, so the sidecars' OpenTelemetry tracer gets an HTTP/2 cluster.
        ports: [{ name: 'grpc-otlp', port: ADOT_OTLP_GRPC_PORT, targetPort: 'otlp-grpc', protocol: 'TCP', appProtocol: 'grpc' }],
      },
    },
  ];
}

/** Turns tracing on for every workload in the mesh namespace, with meshgw's provider and sampling. */
export function renderTracingTelemetry(cfg: MeshgwConfig): K8sObject {
  return {
    apiVersion: 'telemetry.istio.io/v1',
    kind: 'Telemetry',
    metadata: meta(TELEMETRY_NAME, cfg.mesh.namespace),
    spec: { tracing: [{ providers: [{ name: TRACING_PROVIDER }], randomSamplingPercentage: TRACE_SAMPLING_PERCENT }] },
  };
}

/** The meshConfig.extensionProviders entry the Telemetry object refers to; set when Istio is installed. */
export function tracingExtensionProvider(): { name: string; opentelemetry: { service: string; port: number } } {
  return { name: TRACING_PROVIDER, opentelemetry: { service: adotServiceHost(), port: ADOT_OTLP_GRPC_PORT } };
}
