import type { CommandContext } from '../context.js';

export async function runVerify(ctx: CommandContext, opts: Record<string, unknown>, args: string[]): Promise<number> {
  return (await import('../../verify/command.js')).verifyCommand(ctx, opts, args[0]);
}
