/** Server-side apply of the rendered objects, then prune of what meshgw applied before and no longer renders. */
import { describeRef, refOf, type ClusterApi } from './cluster.js';
import { MANAGED_SELECTOR } from './labels.js';
import type { K8sObject } from './manifests/types.js';

/**
 * Every namespaced kind meshgw has ever applied: prune and down's cleanup look for stale objects of these
 * kinds only (test/k8s/apply.test.ts checks that each kind rendered into the mesh namespace is here).
 */
export const PRUNABLE_KINDS: { apiVersion: string; kind: string }[] = [
  { apiVersion: 'gateway.networking.k8s.io/v1', kind: 'HTTPRoute' },
  { apiVersion: 'networking.istio.io/v1', kind: 'VirtualService' },
  { apiVersion: 'networking.istio.io/v1', kind: 'DestinationRule' },
  { apiVersion: 'policy/v1', kind: 'PodDisruptionBudget' },
  { apiVersion: 'telemetry.istio.io/v1', kind: 'Telemetry' },
  { apiVersion: 'gateway.networking.k8s.io/v1', kind: 'Gateway' },
  { apiVersion: 'security.istio.io/v1', kind: 'AuthorizationPolicy' },
  { apiVersion: 'security.istio.io/v1', kind: 'PeerAuthentication' },
  { apiVersion: 'apps/v1', kind: 'Deployment' },
  { apiVersion: 'v1', kind: 'Service' },
  { apiVersion: 'v1', kind: 'ServiceAccount' },
  { apiVersion: 'v1', kind: 'ConfigMap' },
  { apiVersion: 'v1', kind: 'Secret' },
  // The ADOT collector's pod discovery in the mesh namespace (manifests/mesh-metrics.ts).
  { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'Role' },
  { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'RoleBinding' },
];

export interface ApplyEvents {
  onApplied?(ref: string): void;
  onPruned?(ref: string): void;
}

export async function applyObjects(api: ClusterApi, objects: K8sObject[], events: ApplyEvents = {}): Promise<string[]> {
  const applied: string[] = [];
  // In order: the namespace before what lives in it, ServiceAccounts before the Deployments using them.
  for (const obj of objects) {
    await api.apply(obj);
    const ref = describeRef(obj);
    applied.push(ref);
    events.onApplied?.(ref);
  }
  return applied;
}

const key = (o: { kind: string; metadata: { name: string; namespace?: string } }) => `${o.kind}/${o.metadata.namespace ?? ''}/${o.metadata.name}`;

/** Deletes objects labelled managed-by=meshgw in `namespace` that `desired` no longer contains. */
export async function pruneStale(api: ClusterApi, namespace: string, desired: K8sObject[], events: ApplyEvents = {}): Promise<string[]> {
  const wanted = new Set(desired.map(key));
  const pruned: string[] = [];
  for (const { apiVersion, kind } of PRUNABLE_KINDS) {
    const existing = await api.list(apiVersion, kind, namespace, MANAGED_SELECTOR);
    for (const obj of existing) {
      const withNs = { ...obj, metadata: { ...obj.metadata, namespace: obj.metadata.namespace ?? namespace } };
      if (wanted.has(key(withNs))) continue;
      await api.delete(refOf({ ...withNs, apiVersion, kind }));
      const ref = describeRef(withNs);
      pruned.push(ref);
      events.onPruned?.(ref);
    }
  }
  return pruned;
}
