import { randomFillSync } from 'node:crypto';

// Trace and span ids are not secrets, but they must not repeat: they come from the CSPRNG, a
// block at a time, instead of one randomBytes() call (and allocation) per id.
const POOL_BYTES = 4096;
const pool = Buffer.allocUnsafe(POOL_BYTES);
let offset = POOL_BYTES;

/** `bytes` random bytes as lowercase hex (2 × bytes characters); bytes ≤ 4096. */
export function randomHex(bytes: number): string {
  if (offset + bytes > POOL_BYTES) {
    randomFillSync(pool);
    offset = 0;
  }
  const hex = pool.toString('hex', offset, offset + bytes);
  offset += bytes;
  return hex;
}
