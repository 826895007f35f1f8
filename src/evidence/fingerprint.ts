/**
 * The config fingerprint: what a reviewer compares to know two runs used the same settings.
 *
 * Canonical means: the configuration as meshgw runs with it (meshgw.yaml parsed and validated,
 * every default filled in), written as JSON with the keys of every object sorted, arrays in their
 * order, no whitespace, UTF-8. So comments, key order, quoting and YAML layout do not change it,
 * and any effective value does, a default included.
 */
import { createHash } from 'node:crypto';
import type { MeshgwConfig } from '../config/schema.js';
import type { ConfigFingerprint } from './types.js';

export const CANONICAL_CONFIG =
  'sha256 of the loaded configuration (meshgw.yaml validated, defaults filled in) as JSON with sorted object keys, arrays in order, no whitespace, UTF-8';

/** JSON with sorted object keys at every depth; undefined fields are left out as JSON.stringify does. */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'null';
  if (Array.isArray(value)) return `[${value.map((v) => (v === undefined ? 'null' : canonicalJson(v))).join(',')}]`;
  const entries = Object.entries(value as Record<string, unknown>)
    .filter(([, v]) => v !== undefined && typeof v !== 'function')
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
}

export function configFingerprint(config: MeshgwConfig, file: string): ConfigFingerprint {
  return { file, algorithm: 'sha256', value: createHash('sha256').update(canonicalJson(config), 'utf8').digest('hex'), canonical: CANONICAL_CONFIG };
}
