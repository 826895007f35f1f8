import type { CommandContext } from '../context.js';

export async function runCerts(ctx: CommandContext, opts: Record<string, unknown>, args: string[]): Promise<number> {
  return (await import('../../pki/command.js')).certsCommand(ctx, opts, args[0]);
}
