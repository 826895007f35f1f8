import { createHash, randomBytes } from 'node:crypto';
import type { MeshgwConfig } from '../config/schema.js';
import type { ApiKeyRecord } from '../gateway/spec.js';
import { apiKeysFile, readApiKeys, secretsFile, writeJsonAtomic } from './state.js';
import { readFile } from 'node:fs/promises';

/**
 * The local stack's API keys: one per key name in the usage plans, kept across runs (mode 0600) so a
 * user's curl commands keep working; a key added to meshgw.yaml gets a value, a removed one is dropped.
 */
export async function ensureApiKeys(config: MeshgwConfig, stateDir: string): Promise<ApiKeyRecord[]> {
  const existing = new Map((await readApiKeys(stateDir) ?? []).map((k) => [k.name, k]));
  const keys: ApiKeyRecord[] = [];
  for (const plan of config.gateway.usagePlans) {
    for (const name of plan.apiKeys) {
      const prior = existing.get(name);
      const value = prior?.value ?? randomBytes(24).toString('base64url');
      // Like API Gateway's key ids: public, stable, and not derivable back to the value.
      const id = prior?.id ?? createHash('sha256').update(name + value).digest('hex').slice(0, 10);
      keys.push({ id, name, plan: plan.name, value });
    }
  }
  await writeJsonAtomic(apiKeysFile(stateDir), keys);
  return keys;
}

export interface LocalSecrets {
  tokenSecret: string;
}

/** The users service's token-signing secret, made once per state folder. */
export async function ensureLocalSecrets(stateDir: string): Promise<LocalSecrets> {
  try {
    const s = JSON.parse(await readFile(secretsFile(stateDir), 'utf8')) as LocalSecrets;
    if (typeof s.tokenSecret === 'string' && s.tokenSecret.length >= 32) return s;
  } catch {
    // missing or unreadable: make a new one below
  }
  const secrets = { tokenSecret: randomBytes(32).toString('base64url') };
  await writeJsonAtomic(secretsFile(stateDir), secrets);
  return secrets;
}
