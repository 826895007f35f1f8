/**
 * Restarting Deployments the way `kubectl rollout restart` does: a pod-template annotation changes, so
 * the Deployment controller replaces every pod. It is applied under its own field manager so that the
 * next `meshgw deploy` (fieldManager meshgw) neither removes it nor rolls the pods again.
 */
import type { ClusterApi } from './cluster.js';

export const RESTART_FIELD_MANAGER = 'meshgw-restart';

/** Sets one pod-template annotation on an existing Deployment; false when the Deployment does not exist. */
export async function annotatePodTemplate(api: ClusterApi, namespace: string, name: string, key: string, value: string): Promise<boolean> {
  const ref = { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name, namespace } };
  if (!(await api.read(ref))) return false;
  await api.apply({ ...ref, spec: { template: { metadata: { annotations: { [key]: value } } } } }, { fieldManager: RESTART_FIELD_MANAGER });
  return true;
}

/** Every Deployment's name in the namespace (meshgw's services and the Gateway's Deployment alike). */
export async function deploymentNames(api: ClusterApi, namespace: string): Promise<string[]> {
  return (await api.list('apps/v1', 'Deployment', namespace, '')).map((d) => d.metadata.name).sort();
}
