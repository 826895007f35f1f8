import type { CommandContext } from '../context.js';
import { parseUpOptions, type CommanderValues } from '../options.js';

export async function runUp(ctx: CommandContext, raw: CommanderValues): Promise<number> {
  const opts = parseUpOptions(raw, ctx.loaded.config);
  if (ctx.target === 'aws') return (await import('../../aws/commands.js')).upAws(ctx, opts);
  return (await import('../../local/commands.js')).upLocal(ctx, opts);
}
