import type { CommandContext } from '../context.js';

export async function runPush(ctx: CommandContext, opts: Record<string, unknown>): Promise<number> {
  return (await import('../../aws/push-command.js')).pushImages(ctx, opts);
}
