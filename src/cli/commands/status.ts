import type { CommandContext } from '../context.js';
import { parseStatusOptions, type CommanderValues } from '../options.js';

export async function runStatus(ctx: CommandContext, raw: CommanderValues): Promise<number> {
  const opts = parseStatusOptions(raw, ctx.loaded.config);
  if (ctx.target === 'aws') return (await import('../../aws/commands.js')).statusAws(ctx, opts);
  return (await import('../../local/commands.js')).statusLocal(ctx);
}
