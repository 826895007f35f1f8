/**
 * The Istio release the cluster runs, for the evidence bundle: istiod's image tag (…/pilot:1.31.1),
 * as `meshgw deploy` reads it (k8s/mesh-install.ts installedIstioVersion). A read that fails gives
 * null: the version is a fact to record, never a reason to fail a check.
 */
import type { MeshClusterAccess } from './mtls-context.js';

export async function runningIstioVersion(cluster: Pick<MeshClusterAccess, 'read'>): Promise<string | null> {
  try {
    const d = await cluster.read('apps/v1', 'Deployment', 'istio-system', 'istiod');
    const image = (d?.spec as { template?: { spec?: { containers?: { image?: string }[] } } } | undefined)?.template?.spec?.containers?.[0]?.image;
    return image ? (/:([0-9][^@]*)/.exec(image)?.[1] ?? null) : null;
  } catch {
    return null;
  }
}
