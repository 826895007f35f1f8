import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { parseDocument } from 'yaml';
import type { z } from 'zod';
import { MeshgwError } from '../errors.js';
import { CONFIG_ENV_VAR, DEFAULT_CONFIG_FILE } from './defaults.js';
import { configSchema, type MeshgwConfig } from './schema.js';

/** A validated configuration and where it came from. */
export interface LoadedConfig {
  config: MeshgwConfig;
  /** Absolute path of the file it was read from. */
  file: string;
  /** Absolute path of the state folder (certificates, keys, run state, stack outputs). */
  stateDir: string;
}

/** Which file to read: --config, then $MESHGW_CONFIG, then ./meshgw.yaml. */
export function resolveConfigPath(explicit: string | undefined, env: NodeJS.ProcessEnv = process.env, cwd = process.cwd()): string {
  return path.resolve(cwd, explicit ?? env[CONFIG_ENV_VAR] ?? DEFAULT_CONFIG_FILE);
}

export async function loadConfig(file: string): Promise<LoadedConfig> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new MeshgwError(
      'CONFIG_NOT_FOUND',
      code === 'ENOENT' ? `${file}: no such file` : `${file}: cannot be read (${code ?? String(err)})`,
      `Pass --config FILE or set ${CONFIG_ENV_VAR}; the repository's meshgw.yaml is a complete example.`,
    );
  }
  const config = parseConfigText(text, file);
  return { config, file, stateDir: path.resolve(path.dirname(file), config.local.stateDir) };
}

/** Parses and validates YAML text; the error names the file, the field path and what was expected. */
export function parseConfigText(text: string, file: string): MeshgwConfig {
  const doc = parseDocument(text, { prettyErrors: true, uniqueKeys: true });
  if (doc.errors.length > 0) {
    const e = doc.errors[0];
    const where = e.linePos?.[0] ? ` (line ${e.linePos[0].line}, column ${e.linePos[0].col})` : '';
    throw new MeshgwError('CONFIG_INVALID', `${file}: not valid YAML${where}: ${e.message.split('\n')[0]}`, 'Fix the YAML syntax and run the command again.');
  }
  const raw: unknown = doc.toJS();
  const parsed = configSchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new MeshgwError('CONFIG_INVALID', `${file}: ${describeIssue(issue, raw)}`, 'Fix that field and run the command again; nothing was changed.');
  }
  return parsed.data;
}

function describeIssue(issue: z.core.$ZodIssue, raw: unknown): string {
  const field = issue.path.length > 0 ? issue.path.map(String).join('.') : '(top level)';
  switch (issue.code) {
    case 'invalid_type': {
      const got = valueAt(raw, issue.path);
      if (got === undefined) return `${field}: missing (expected ${issue.expected})`;
      // zod reports a fraction where an integer belongs as a type error ("expected int"): say it in words.
      if (issue.expected === 'int' && typeof got === 'number') return `${field}: expected a whole number (got ${describeValue(got)})`;
      return `${field}: expected ${issue.expected}, got ${describeValue(got)}`;
    }
    case 'unrecognized_keys':
      return `${field === '(top level)' ? '' : field + ': '}unknown field${issue.keys.length > 1 ? 's' : ''} ${issue.keys.map((k) => `"${k}"`).join(', ')}`;
    case 'invalid_value':
      return `${field}: expected one of ${issue.values.map((v) => JSON.stringify(v)).join(', ')}, got ${describeValue(valueAt(raw, issue.path))}`;
    default: {
      const got = valueAt(raw, issue.path);
      // Cross-field (custom) messages already quote the value they are about.
      const showGot = issue.code !== 'custom' && got !== undefined && (typeof got !== 'object' || got === null);
      const suffix = showGot ? ` (got ${describeValue(got)})` : '';
      return `${field}: ${issue.message}${suffix}`;
    }
  }
}

function valueAt(raw: unknown, p: PropertyKey[]): unknown {
  let cur: unknown = raw;
  for (const k of p) {
    if (cur === null || typeof cur !== 'object') return undefined;
    cur = (cur as Record<PropertyKey, unknown>)[k];
  }
  return cur;
}

function describeValue(v: unknown): string {
  if (v === undefined) return 'nothing';
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'a list';
  if (typeof v === 'object') return 'a mapping';
  return `${typeof v} ${JSON.stringify(v)}`;
}
