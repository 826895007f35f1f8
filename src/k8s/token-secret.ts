/** The token signing secret for the EKS services, kept in <stateDir>/aws/token-secret (0600) so redeploys keep sessions valid. */
import { randomBytes } from 'node:crypto';
import { chmod, mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';

export async function ensureTokenSecret(stateDir: string): Promise<string> {
  const file = path.join(stateDir, 'aws', 'token-secret');
  try {
    const existing = (await readFile(file, 'utf8')).trim();
    if (existing.length >= 32) return existing;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  await mkdir(path.dirname(file), { recursive: true });
  const value = randomBytes(32).toString('base64url');
  await writeFile(file, value + '\n', { mode: 0o600 });
  await chmod(file, 0o600);
  return value;
}
