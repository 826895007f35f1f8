import { MeshgwError } from '../errors.js';
import type { CommandContext } from '../cli/context.js';

// PLACEHOLDER: replaced by the feature's implementation.
export async function verifyCommand(_ctx: CommandContext, _opts: Record<string, unknown>, _arg?: string): Promise<number> {
  throw new MeshgwError('USAGE', 'verifyCommand is not implemented yet');
}
