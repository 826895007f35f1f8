import type { CommandContext } from '../context.js';
import { parseDoctorOptions, type CommanderValues } from '../options.js';

export async function runDoctor(ctx: CommandContext, raw: CommanderValues): Promise<number> {
  return (await import('../../doctor/command.js')).doctorCommand(ctx, parseDoctorOptions(raw, ctx.loaded.config));
}
