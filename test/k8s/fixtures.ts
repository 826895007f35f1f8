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
