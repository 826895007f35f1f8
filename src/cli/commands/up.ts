import type { CommandContext } from '../context.js';

export async function runUp(ctx: CommandContext, opts: Record<string, unknown>): Promise<number> {
  if (ctx.target === 'aws') return (await import('../../aws/commands.js')).upAws(ctx, opts);
  return (await import('../../local/commands.js')).upLocal(ctx, opts);
}
