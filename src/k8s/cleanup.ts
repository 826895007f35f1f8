import type { CommandContext } from '../cli/context.js';
import { MeshgwError } from '../errors.js';
import type { ClusterApi } from './cluster.js';
import { describeRef, refOf } from './cluster.js';
import { PRUNABLE_KINDS } from './apply.js';
import { MANAGED_SELECTOR } from './labels.js';
import { TELEMETRY_NAMESPACE } from './manifests/telemetry.js';
import type { K8sObject } from './manifests/types.js';
import type { ClusterConnection } from './stack-cluster.js';

/** `meshgw down --target aws` calls this before deleting the stack, so load balancers and other AWS resources made from the cluster are gone first. */
export type CleanupResult = { type: 'removed'; objects: number } | { type: 'skipped'; reason: string };

export interface CleanupOptions {
  deadlineMs: number;
  pollMs: number;
  now?: () => number;
  sleep?: (ms: number) => Promise<void>;
}

/**
 * Deletes what deploy created: the Gateway first (Istio then removes its Service and with it any load
 * balancer), then the rest of meshgw's objects, then the namespace; waits until they are gone.
 */
export async function removeFromCluster(api: ClusterApi, namespace: string, opts: CleanupOptions): Promise<CleanupResult> {
  const found: K8sObject[] = [];
  for (const { apiVersion, kind } of PRUNABLE_KINDS) {
    for (const o of await api.list(apiVersion, kind, namespace, MANAGED_SELECTOR)) found.push({ ...o, apiVersion, kind, metadata: { ...o.metadata, namespace } });
  }
  const ns = await api.read({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: namespace } });
  const nsManaged = ns?.metadata.labels?.['app.kubernetes.io/managed-by'] === 'meshgw';
  if (found.length === 0 && !nsManaged) return { type: 'skipped', reason: `nothing deployed by meshgw in namespace ${namespace}` };
  const ordered = [...found.filter((o) => o.kind === 'Gateway'), ...found.filter((o) => o.kind !== 'Gateway')];
  if (nsManaged) ordered.push({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: namespace } });
  for (const o of ordered) await api.delete(refOf(o));
  const now = opts.now ?? Date.now;
  const sleep = opts.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  const deadline = now() + opts.deadlineMs;
  let remaining = ordered;
  for (;;) {
    const still: K8sObject[] = [];
    for (const o of remaining) if (await api.read(refOf(o))) still.push(o);
    remaining = still;
    if (remaining.length === 0 || now() >= deadline) break;
    await sleep(opts.pollMs);
  }
  if (remaining.length > 0) return { type: 'skipped', reason: `still deleting after the deadline: ${remaining.map(describeRef).join(', ')}` };
  return { type: 'removed', objects: ordered.length };
}

/**
 * Cleanup for `down --target aws`, on the stack's cluster only. A cluster that is gone, not ready or
 * unreachable is skipped (the stack deletion goes on); an override naming another cluster, or
 * credentials AWS refuses, stop down before anything is deleted.
 */
export async function removeDeployedObjects(ctx: CommandContext, connect: () => Promise<ClusterConnection>): Promise<CleanupResult> {
  let connection: ClusterConnection;
  try {
    connection = await connect();
  } catch (err) {
    if (err instanceof MeshgwError && err.code === 'CLUSTER_UNREACHABLE') return { type: 'skipped', reason: err.message };
    throw err;
  }
  const { createClusterApi } = await import('./client.js');
  const api = createClusterApi(connection.kubeConfig);
  try {
    await api.list('v1', 'Namespace', undefined, MANAGED_SELECTOR);
  } catch (err) {
    return { type: 'skipped', reason: `cluster ${connection.clusterName} not reachable at ${connection.server} (${(err as Error).message.split('\n')[0]})` };
  }
  const opts = { deadlineMs: 5 * 60_000, pollMs: 3_000 };
  const mesh = await removeFromCluster(api, ctx.loaded.config.mesh.namespace, opts);
  // The tracing collector has a namespace of its own (manifests/telemetry.ts); the mesh's outcome is the one reported.
  const tracing = await removeFromCluster(api, TELEMETRY_NAMESPACE, opts);
  return mesh.type === 'removed' && tracing.type === 'removed' ? { type: 'removed', objects: mesh.objects + tracing.objects } : mesh;
}
