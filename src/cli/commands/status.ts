import type { CommandContext } from '../context.js';

export async function runStatus(ctx: CommandContext, opts: Record<string, unknown>): Promise<number> {
  if (ctx.target === 'aws') return (await import('../../aws/commands.js')).statusAws(ctx, opts);
  return (await import('../../local/commands.js')).statusLocal(ctx, opts);
}
