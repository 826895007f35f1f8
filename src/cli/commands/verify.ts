import path from 'node:path';
import type { CommandContext } from '../context.js';
import { parseVerifyOptions, type CommanderValues } from '../options.js';

export async function runVerify(ctx: CommandContext, raw: CommanderValues, args: string[]): Promise<number> {
  const opts = parseVerifyOptions(raw, args[0], ctx.loaded.config, (p) => path.resolve(p));
  return (await import('../../verify/command.js')).verifyCommand(ctx, opts);
}
