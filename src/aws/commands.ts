import { MeshgwError } from '../errors.js';
import type { CommandContext } from '../cli/context.js';

// PLACEHOLDER: replaced by the feature's implementation.
export async function upAws(_ctx: CommandContext, _opts: Record<string, unknown>, _arg?: string): Promise<number> {
  throw new MeshgwError('USAGE', 'upAws is not implemented yet');
}
export async function statusAws(_ctx: CommandContext, _opts: Record<string, unknown>, _arg?: string): Promise<number> {
  throw new MeshgwError('USAGE', 'statusAws is not implemented yet');
}
export async function downAws(_ctx: CommandContext, _opts: Record<string, unknown>, _arg?: string): Promise<number> {
  throw new MeshgwError('USAGE', 'downAws is not implemented yet');
}
