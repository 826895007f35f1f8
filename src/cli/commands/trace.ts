import path from 'node:path';
import type { CommandContext } from '../context.js';
import { parseAwsTarget, type CommanderValues } from '../options.js';

export async function runTrace(ctx: CommandContext, raw: CommanderValues, args: string[]): Promise<number> {
  const { parseTraceOptions } = await import('../../trace/options.js');
  const opts = parseTraceOptions(raw, args[0], (p) => path.resolve(p));
  const aws = parseAwsTarget(raw, ctx.loaded.config);
  return (await import('../../trace/command.js')).traceCommand(ctx, opts, aws);
}
