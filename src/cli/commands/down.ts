import type { CommandContext } from '../context.js';

export async function runDown(ctx: CommandContext, opts: Record<string, unknown>): Promise<number> {
  if (ctx.target === 'aws') return (await import('../../aws/commands.js')).downAws(ctx, opts);
  return (await import('../../local/commands.js')).downLocal(ctx, opts);
}
