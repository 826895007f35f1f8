import type { CommandContext } from '../context.js';
import { parseDownOptions, type CommanderValues } from '../options.js';

export async function runDown(ctx: CommandContext, raw: CommanderValues): Promise<number> {
  const opts = parseDownOptions(raw, ctx.loaded.config);
  if (ctx.target === 'aws') return (await import('../../aws/commands.js')).downAws(ctx, opts);
  return (await import('../../local/commands.js')).downLocal(ctx);
}
