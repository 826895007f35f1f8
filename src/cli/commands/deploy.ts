import type { CommandContext } from '../context.js';

export async function runDeploy(ctx: CommandContext, opts: Record<string, unknown>): Promise<number> {
  return (await import('../../k8s/deploy-command.js')).deployToCluster(ctx, opts);
}
