import type { CommandContext } from '../context.js';

export async function runCiRole(ctx: CommandContext, opts: Record<string, unknown>): Promise<number> {
  return (await import('../../cicd/ci-role-command.js')).ciRoleCommand(ctx, opts);
}
