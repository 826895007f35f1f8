import { readFileSync } from 'node:fs';
import { parseConfigText } from '../../src/config/load.js';
import type { MeshgwConfig } from '../../src/config/schema.js';

export function repoConfig(): MeshgwConfig {
  return parseConfigText(readFileSync(new URL('../../../meshgw.yaml', import.meta.url), 'utf8'), 'meshgw.yaml');
}

export const DIGESTS = { users: 'a', products: 'b', orders: 'c' } as const;

export function images(): Record<string, string> {
  return Object.fromEntries(Object.entries(DIGESTS).map(([s, d]) => [s, `123456789012.dkr.ecr.us-east-1.amazonaws.com/meshgw-${s}@sha256:${d.repeat(64)}`]));
}

/** The repository config in its own namespace, so each test stands alone on a shared API server. */
export function configIn(namespace: string): MeshgwConfig {
  const cfg = repoConfig();
  return { ...cfg, mesh: { ...cfg.mesh, namespace } };
}

/** Paths in `want` whose value `got` lacks or changes (the server may add defaults, never drop what was sent). */
export function missingPaths(want: unknown, got: unknown, at = ''): string[] {
  if (Array.isArray(want)) {
    if (!Array.isArray(got)) return [at];
    return want.flatMap((w, i) => missingPaths(w, got[i], `${at}[${i}]`));
  }
  if (want && typeof want === 'object') {
    if (!got || typeof got !== 'object') return [at];
    return Object.entries(want).flatMap(([k, v]) => missingPaths(v, (got as Record<string, unknown>)[k], `${at}.${k}`));
  }
  return want === got ? [] : [`${at} (sent ${JSON.stringify(want)}, stored ${JSON.stringify(got)})`];
}
