import { MeshgwError } from '../errors.js';

/** "demo-standard" → "DemoStandard": a CloudFormation logical id part (A-Za-z0-9 only). */
export function logicalName(name: string): string {
  return name
    .split(/[^A-Za-z0-9]+/)
    .filter(Boolean)
    .map((part) => part[0].toUpperCase() + part.slice(1))
    .join('');
}

/**
 * Logical ids for a list of names, refusing two names that collapse to the same id
 * ("a-1" and "a1"), which would silently merge two resources.
 */
export function logicalNames(kind: string, names: string[], prefix: string, suffix = ''): Map<string, string> {
  const out = new Map<string, string>();
  const owners = new Map<string, string>();
  for (const name of names) {
    const id = `${prefix}${logicalName(name)}${suffix}`;
    const owner = owners.get(id);
    if (owner !== undefined && owner !== name) {
      throw new MeshgwError(
        'CONFIG_INVALID',
        `${kind} names "${owner}" and "${name}" both become the CloudFormation logical id ${id}`,
        `Rename one of them in meshgw.yaml; names that differ only in dashes collide.`,
      );
    }
    owners.set(id, name);
    out.set(name, id);
  }
  return out;
}
