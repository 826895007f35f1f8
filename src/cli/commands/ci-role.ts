import type { CommandContext } from '../context.js';
import { parseCiRoleOptions, type CommanderValues } from '../options.js';

export async function runCiRole(ctx: CommandContext, raw: CommanderValues): Promise<number> {
  return (await import('../../cicd/ci-role-command.js')).ciRoleCommand(ctx, parseCiRoleOptions(raw, ctx.loaded.config));
}
