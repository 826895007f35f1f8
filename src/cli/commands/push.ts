import type { CommandContext } from '../context.js';
import { parsePushOptions, type CommanderValues } from '../options.js';

export async function runPush(ctx: CommandContext, raw: CommanderValues): Promise<number> {
  return (await import('../../aws/push-command.js')).pushImages(ctx, parsePushOptions(raw, ctx.loaded.config));
}
