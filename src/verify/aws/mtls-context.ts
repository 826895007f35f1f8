/** What verify mtls needs from the cluster, as a narrow interface (a fake in tests, the Kubernetes API for real). */
import type { AlarmSource } from '../../aws/alarm-state.js';
import type { MeshgwConfig } from '../../config/schema.js';
import type { K8sObject } from '../../k8s/manifests/types.js';
import type { GatewayEndpoint } from '../target.js';

export interface ProbeSpec {
  /** Pod name; the checks make it unique per run. */
  name: string;
  namespace: string;
  /** ServiceAccount (its mesh identity when injected). */
  serviceAccount?: string;
  /** Create that ServiceAccount for the probe and delete it after (an identity no manifest declares). */
  createServiceAccount?: boolean;
  /** Whether Istio injects a sidecar (false: the pod talks plaintext or its own TLS). */
  sidecar: boolean;
  /** Shell script run by the probe container (sh -c). */
  script: string;
  /** Files to mount at /probe (Secret data): e.g. a foreign client certificate. */
  files?: Record<string, string>;
}

export interface ProbeResult {
  exitCode: number;
  output: string;
}

export interface MeshClusterAccess {
  list(apiVersion: string, kind: string, namespace: string): Promise<K8sObject[]>;
  read(apiVersion: string, kind: string, namespace: string, name: string): Promise<K8sObject | undefined>;
  /** Running pods of a workload (by app.kubernetes.io/name). */
  podsOf(namespace: string, app: string): Promise<string[]>;
  /** The sidecar's Envoy counters (`pilot-agent request GET stats`), as "name: value" lines. */
  proxyStats(namespace: string, pod: string): Promise<string>;
  /** Runs a short-lived pod to completion and returns its exit code and output; the pod is always deleted. */
  runProbe(spec: ProbeSpec): Promise<ProbeResult>;
}

export interface AwsMtlsContext {
  config: MeshgwConfig;
  endpoint: GatewayEndpoint;
  cluster: MeshClusterAccess;
  /** meshgw's mesh root (PEM), which the cluster's trust anchor must equal. */
  meshCaPem: string;
  /** A foreign CA's client certificate and key (PEM) for the "another CA" refusal. */
  foreignClient: { certPem: string; keyPem: string };
  /** Suffix that makes probe pod names unique to this run. */
  runId: string;
  /** The stack's CloudWatch alarms (the mTLS alarm check); absent, that check is not run. */
  alarms?: AlarmSource;
}
