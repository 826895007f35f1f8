import { randomBytes, scrypt, timingSafeEqual } from 'node:crypto';

/** A stored password: scrypt(password, salt) with the parameters it was made with. */
export interface PasswordHash {
  salt: Buffer;
  hash: Buffer;
  cost: number;
}

/** scrypt's N. 2^14 is the RFC 7914 interactive-login figure (≈16 MiB, tens of ms). */
export const DEFAULT_SCRYPT_COST = 1 << 14;
const KEY_LENGTH = 32;

function derive(password: string, salt: Buffer, cost: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    scrypt(password, salt, KEY_LENGTH, { N: cost, r: 8, p: 1 }, (err, key) => (err ? reject(err) : resolve(key)));
  });
}

export async function hashPassword(password: string, cost = DEFAULT_SCRYPT_COST): Promise<PasswordHash> {
  const salt = randomBytes(16);
  return { salt, hash: await derive(password, salt, cost), cost };
}

export async function verifyPassword(password: string, stored: PasswordHash): Promise<boolean> {
  const candidate = await derive(password, stored.salt, stored.cost);
  return timingSafeEqual(candidate, stored.hash);
}
