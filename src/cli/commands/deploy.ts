import type { CommandContext } from '../context.js';
import { parseDeployOptions, type CommanderValues } from '../options.js';

export async function runDeploy(ctx: CommandContext, raw: CommanderValues): Promise<number> {
  return (await import('../../k8s/deploy-command.js')).deployToCluster(ctx, parseDeployOptions(raw, ctx.loaded.config));
}
