/**
 * The token signing secret users and orders share on EKS. The cluster's Secret is the truth: running
 * pods read it once at start, so a deploy that changed it would leave pods that did not roll on the
 * old value (orders would answer 401 to users' tokens). A fresh CI runner therefore adopts the
 * cluster's value; only a cluster without one gets the local copy or a new value. The local copy
 * (<stateDir>/aws/token-secret, 0600 in a 0700 folder) is what later steps on the same machine use.
 */
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import type { MeshgwConfig } from '../config/schema.js';
import { KEY_FILE_MODE, ensureDir, readIfExists, writeFileAtomic } from '../pki/files.js';
import type { ClusterApi } from './cluster.js';
import { TOKEN_SECRET_NAME } from './labels.js';

/** HMAC keys shorter than this are refused (users and orders demand it too). */
const MIN_TOKEN_SECRET_LENGTH = 32;
const DATA_KEY = 'token-secret';

export type TokenSecretSource = 'cluster' | 'local' | 'created';

export function tokenSecretFile(stateDir: string): string {
  return path.join(stateDir, 'aws', 'token-secret');
}

async function readClusterValue(api: ClusterApi, namespace: string): Promise<string | undefined> {
  const secret = await api.read({ apiVersion: 'v1', kind: 'Secret', metadata: { name: TOKEN_SECRET_NAME, namespace } });
  const b64 = ((secret?.data ?? {}) as Record<string, string>)[DATA_KEY];
  const value = b64 ? Buffer.from(b64, 'base64').toString('utf8').trim() : undefined;
  return value && value.length >= MIN_TOKEN_SECRET_LENGTH ? value : undefined;
}

async function writeLocal(stateDir: string, value: string): Promise<void> {
  const file = tokenSecretFile(stateDir);
  await ensureDir(path.dirname(file));
  await writeFileAtomic(file, `${value}\n`, KEY_FILE_MODE);
}

/** The value to deploy, and where it came from; the local copy is brought in line with it. Never logged. */
export async function resolveTokenSecret(api: ClusterApi, config: MeshgwConfig, stateDir: string): Promise<{ value: string; source: TokenSecretSource }> {
  const fromCluster = await readClusterValue(api, config.mesh.namespace);
  if (fromCluster) {
    await writeLocal(stateDir, fromCluster);
    return { value: fromCluster, source: 'cluster' };
  }
  const local = (await readIfExists(tokenSecretFile(stateDir)))?.trim();
  if (local && local.length >= MIN_TOKEN_SECRET_LENGTH) {
    await writeLocal(stateDir, local);
    return { value: local, source: 'local' };
  }
  const created = randomBytes(32).toString('base64url');
  await writeLocal(stateDir, created);
  return { value: created, source: 'created' };
}
