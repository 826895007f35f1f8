import type { CommandContext } from '../context.js';
import { parseDemoOptions, type CommanderValues } from '../options.js';

export async function runDemo(ctx: CommandContext, raw: CommanderValues): Promise<number> {
  return (await import('../../local/demo.js')).runDemo(ctx, parseDemoOptions(raw));
}
