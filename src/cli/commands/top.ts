import type { CommandContext } from '../context.js';
import { parseAwsTarget, parseClusterOverride, type CommanderValues } from '../options.js';

export async function runTop(ctx: CommandContext, raw: CommanderValues): Promise<number> {
  const { parseTopOptions } = await import('../../top/options.js');
  const opts = parseTopOptions(raw);
  return (await import('../../top/command.js')).topCommand(ctx, opts, parseAwsTarget(raw, ctx.loaded.config), parseClusterOverride(raw));
}
