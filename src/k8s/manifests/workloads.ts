/** Namespace, identities (ServiceAccounts), Deployments and Services for the three apps. */
import { serviceNames } from '../../config/topology.js';
import type { MeshgwConfig } from '../../config/schema.js';
import { APP_LABEL, SERVICE_PORT, TOKEN_SECRET_NAME } from '../labels.js';
import { meta } from './meta.js';
import { meshProxyConfigAnnotation } from './proxy-stats.js';
import { renderPodDisruptionBudget, topologySpreadConstraints } from './resilience.js';
import type { K8sObject, RenderInput } from './types.js';

/** Istio injects an Envoy sidecar into every pod of a namespace carrying this label. */
export function renderNamespace(cfg: MeshgwConfig): K8sObject {
  return { apiVersion: 'v1', kind: 'Namespace', metadata: meta(cfg.mesh.namespace, undefined, { 'istio-injection': 'enabled' }) };
}

/** One ServiceAccount per workload: its name is the last segment of the workload's SPIFFE ID. */
export function renderServiceAccount(cfg: MeshgwConfig, name: string): K8sObject {
  return { apiVersion: 'v1', kind: 'ServiceAccount', metadata: meta(name, cfg.mesh.namespace, { [APP_LABEL]: name }), automountServiceAccountToken: false };
}

/** Backend URLs an app reaches through its sidecar: <NAME>_URL=http://<name>:<port> (the sidecar upgrades to mTLS). */
function backendEnv(cfg: MeshgwConfig, service: string): { name: string; value: string }[] {
  return cfg.services[service].backends.map((b) => ({ name: `${b.toUpperCase().replace(/-/g, '_')}_URL`, value: `http://${b}.${cfg.mesh.namespace}.svc.cluster.local:${SERVICE_PORT}` }));
}

/**
 * The `version` label Istio's telemetry reports (destination_version) and istioctl analyze asks for: the build
 * the pod runs, from the image digest (sha256-<12 hex>) or tag. Label values are at most 63 characters.
 */
export function imageVersionLabel(image: string): string {
  const digest = /@sha256:([0-9a-f]{12})/.exec(image);
  if (digest) return `sha256-${digest[1]}`;
  const tag = /:([A-Za-z0-9][A-Za-z0-9_.-]*)$/.exec(image.split('/').pop() ?? '');
  return tag ? tag[1].slice(0, 63).replace(/[^A-Za-z0-9]+$/, '') : 'latest';
}

/** The stack output that names each stateful service's DynamoDB table (templates/meshgw-stack.yaml Outputs). */
export const TABLE_OUTPUTS: Readonly<Record<string, string>> = { users: 'UsersTableName', orders: 'OrdersTableName' };

/**
 * Where a stateful service keeps its data in a pod: its DynamoDB table, reached with the credentials
 * EKS Pod Identity hands its service account (the association is in the stack).
 */
function storageEnv(input: RenderInput, service: string): { name: string; value: string }[] {
  const output = TABLE_OUTPUTS[service];
  if (!output) return [];
  return [
    { name: 'DYNAMODB_TABLE', value: input.dataTables?.[service] ?? `<${output} output of stack ${input.config.aws.stackName}>` },
    { name: 'AWS_REGION', value: input.awsRegion ?? input.config.aws.region },
  ];
}

export function renderDeployment(input: RenderInput, service: string): K8sObject {
  const cfg = input.config;
  const image = input.images[service];
  const probe = (initialDelaySeconds: number) => ({ httpGet: { path: '/healthz', port: 'http' }, initialDelaySeconds, periodSeconds: 10, timeoutSeconds: 2, failureThreshold: 3 });
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: meta(service, cfg.mesh.namespace, { [APP_LABEL]: service }),
    spec: {
      // services.<name>.replicas (the PodDisruptionBudget and the spread below follow the same number).
      replicas: cfg.services[service].replicas,
      selector: { matchLabels: { [APP_LABEL]: service } },
      template: {
        metadata: {
          labels: { [APP_LABEL]: service, app: service, version: imageVersionLabel(image) },
          // The TLS counters verify mtls reads exist only when the sidecar starts with this matcher.
          annotations: meshProxyConfigAnnotation(),
        },
        spec: {
          serviceAccountName: service,
          topologySpreadConstraints: topologySpreadConstraints(service),
          // The app needs no Kubernetes API access; the sidecar gets its identity from istio-agent, not this token.
          automountServiceAccountToken: false,
          securityContext: { runAsNonRoot: true, runAsUser: 10001, runAsGroup: 10001, seccompProfile: { type: 'RuntimeDefault' } },
          containers: [
            {
              name: service,
              image,
              imagePullPolicy: 'IfNotPresent',
              ports: [{ name: 'http', containerPort: SERVICE_PORT, protocol: 'TCP' }],
              env: [
                // Istio forwards inbound traffic to the pod IP, so the app listens on all interfaces.
                { name: 'HOST', value: '0.0.0.0' },
                { name: 'PORT', value: String(SERVICE_PORT) },
                { name: 'SERVICE_NAME', value: service },
                { name: 'MAX_BODY_BYTES', value: String(cfg.gateway.maxBodyBytes) },
                { name: 'TOKEN_SECRET', valueFrom: { secretKeyRef: { name: TOKEN_SECRET_NAME, key: 'token-secret' } } },
                ...backendEnv(cfg, service),
                ...storageEnv(input, service),
              ],
              readinessProbe: probe(2),
              livenessProbe: probe(10),
              resources: { requests: { cpu: '50m', memory: '64Mi' }, limits: { cpu: '500m', memory: '256Mi' } },
              securityContext: { allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: { drop: ['ALL'] } },
              volumeMounts: [{ name: 'tmp', mountPath: '/tmp' }],
            },
          ],
          volumes: [{ name: 'tmp', emptyDir: {} }],
        },
      },
    },
  };
}

export function renderService(cfg: MeshgwConfig, service: string): K8sObject {
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: meta(service, cfg.mesh.namespace, { [APP_LABEL]: service }),
    spec: {
      type: 'ClusterIP',
      selector: { [APP_LABEL]: service },
      // The name prefix `http` tells Istio the protocol (and lets AuthorizationPolicy answer 403, not reset).
      ports: [{ name: 'http', port: SERVICE_PORT, targetPort: 'http', protocol: 'TCP', appProtocol: 'http' }],
    },
  };
}

/** The token signing secret, shared by users (issues) and orders (checks). The value is base64 as the API wants. */
export function renderTokenSecret(cfg: MeshgwConfig, tokenSecret: string): K8sObject {
  return {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: meta(TOKEN_SECRET_NAME, cfg.mesh.namespace),
    type: 'Opaque',
    data: { 'token-secret': Buffer.from(tokenSecret).toString('base64') },
  };
}

export function renderWorkloads(input: RenderInput): K8sObject[] {
  const cfg = input.config;
  return serviceNames(cfg).flatMap((s) => {
    const budget = renderPodDisruptionBudget(cfg, s);
    return [renderServiceAccount(cfg, s), renderDeployment(input, s), renderService(cfg, s), ...(budget ? [budget] : [])];
  });
}
