import { MeshgwError } from '../errors.js';
import type { CommandContext } from '../cli/context.js';

// PLACEHOLDER: replaced by the feature's implementation.
export async function upLocal(_ctx: CommandContext, _opts: Record<string, unknown>, _arg?: string): Promise<number> {
  throw new MeshgwError('USAGE', 'upLocal is not implemented yet');
}
export async function statusLocal(_ctx: CommandContext, _opts: Record<string, unknown>, _arg?: string): Promise<number> {
  throw new MeshgwError('USAGE', 'statusLocal is not implemented yet');
}
export async function downLocal(_ctx: CommandContext, _opts: Record<string, unknown>, _arg?: string): Promise<number> {
  throw new MeshgwError('USAGE', 'downLocal is not implemented yet');
}
