import { MeshgwError } from '../errors.js';
import { loadConfig, resolveConfigPath, type LoadedConfig } from '../config/load.js';
import type { Target } from '../config/schema.js';
import { createReporter, type OutputMode, type Reporter } from './reporter.js';

/** Options every command accepts (set on the program, read through optsWithGlobals). */
export interface GlobalOptions {
  config?: string;
  output?: string;
  debug?: boolean;
  target?: string;
}

export interface CommandContext {
  loaded: LoadedConfig;
  reporter: Reporter;
  target: Target;
  /** Aborted on Ctrl-C: long operations stop watching and clean up. */
  signal: AbortSignal;
}

export function parseOutputMode(value: string | undefined): OutputMode {
  if (value === undefined || value === 'text') return 'text';
  if (value === 'json') return 'json';
  throw new MeshgwError('USAGE', `--output: expected "text" or "json", got "${value}"`, 'Use --output json for machine-readable output.');
}

export function parseTarget(value: string | undefined, fallback: Target): Target {
  if (value === undefined) return fallback;
  if (value === 'local' || value === 'aws') return value;
  throw new MeshgwError('USAGE', `--target: expected "local" or "aws", got "${value}"`, 'local runs everything on this machine; aws deploys to your AWS account.');
}

export async function buildContext(opts: GlobalOptions, signal: AbortSignal): Promise<CommandContext> {
  const mode = parseOutputMode(opts.output);
  const reporter = await createReporter(mode);
  const loaded = await loadConfig(resolveConfigPath(opts.config));
  return { loaded, reporter, target: parseTarget(opts.target, loaded.config.target), signal };
}
