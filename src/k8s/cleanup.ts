import type { CommandContext } from '../cli/context.js';

// PLACEHOLDER: replaced by the k8s feature. `meshgw down --target aws` calls this before deleting
// the stack, so that load balancers and other AWS resources made from the cluster are gone first.
export type CleanupResult = { type: 'removed'; objects: number } | { type: 'skipped'; reason: string };

export async function removeDeployedObjects(_ctx: CommandContext, _opts: Record<string, unknown>): Promise<CleanupResult> {
  return { type: 'skipped', reason: 'cluster cleanup is not implemented yet' };
}
