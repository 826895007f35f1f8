/** meshgw's own version (package.json) and the Node.js running it, as the bundle records them. */
import { readFile } from 'node:fs/promises';

// dist/src/evidence/versions.js → the package root holding package.json.
const PACKAGE_JSON = new URL('../../../package.json', import.meta.url);

export async function meshgwVersion(file: URL | string = PACKAGE_JSON): Promise<string> {
  try {
    const pkg = JSON.parse(await readFile(file, 'utf8')) as { name?: unknown; version?: unknown };
    return pkg.name === 'meshgw' && typeof pkg.version === 'string' ? pkg.version : 'unknown (package.json is not meshgw’s)';
  } catch (err) {
    return `unknown (package.json unreadable: ${(err as NodeJS.ErrnoException).code ?? String(err)})`;
  }
}

export function nodeVersion(): string {
  return process.version;
}
