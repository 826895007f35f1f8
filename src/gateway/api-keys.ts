import { createHash, timingSafeEqual } from 'node:crypto';
import type { ApiKeyRecord } from './spec.js';

function digest(value: string): Buffer {
  return createHash('sha256').update(value, 'utf8').digest();
}

/**
 * The API keys the gateway accepts. Lookups hash the candidate to a fixed length and compare it
 * with every key's digest without stopping at a match, so the time taken says nothing about
 * how much of a key was right or which key matched.
 */
export class ApiKeyStore {
  private readonly records: readonly ApiKeyRecord[];
  private readonly digests: readonly Buffer[];

  constructor(records: readonly ApiKeyRecord[]) {
    this.records = records;
    this.digests = records.map((r) => digest(r.value));
  }

  find(candidate: string | undefined): ApiKeyRecord | undefined {
    if (candidate === undefined || candidate.length === 0) return undefined;
    const d = digest(candidate);
    let found = -1;
    for (let i = 0; i < this.digests.length; i++) {
      if (timingSafeEqual(d, this.digests[i]) && found < 0) found = i;
    }
    return found < 0 ? undefined : this.records[found];
  }
}
