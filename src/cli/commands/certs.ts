import type { CommandContext } from '../context.js';
import { parseAwsTarget, parseClusterOverride, type CommanderValues } from '../options.js';
import { parseCertsAction, type CertsOptions } from '../../pki/certs-options.js';

export async function runCerts(ctx: CommandContext, raw: CommanderValues, args: string[]): Promise<number> {
  const action = parseCertsAction(args[0], args[1], ctx.target);
  const opts: CertsOptions = action.kind === 'rotate-root' ? { action, aws: parseAwsTarget(raw, ctx.loaded.config), cluster: parseClusterOverride(raw) } : { action };
  return (await import('../../pki/command.js')).certsCommand(ctx, opts);
}
