import type { CommandContext } from '../context.js';

export async function runDemo(ctx: CommandContext, opts: Record<string, unknown>): Promise<number> {
  return (await import('../../local/demo.js')).runDemo(ctx, opts);
}
