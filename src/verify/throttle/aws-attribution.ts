/**
 * 429s by layer on AWS, from API Gateway's access log. `$context.error.responseType` tells a quota
 * refusal (QUOTA_EXCEEDED) from a bucket's (THROTTLED), but not which bucket: account, method and
 * usage plan all answer THROTTLED. For those the layer is inferred from the model: the layer it
 * expected to refuse that key in that second (a second either side allows for clock skew), else the
 * layer it expected most for that key in the run. Inferred layers are counted apart and said so.
 */
import type { ThrottledLogLine } from '../../aws/access-log.js';
import { emptyLayerCounts, type LayerCounts } from './attribution.js';
import type { ExpectedRefusals } from './phase.js';
import type { BucketLayer } from './layer-model.js';

export interface AwsLayerAttribution {
  byLayer: LayerCounts;
  /** How many of byLayer came from the model (THROTTLED lines), not from the log itself. */
  inferred: number;
  /** Lines no layer could be given to (no key, or a key the model expected no refusal of). */
  unattributed: number;
}

function mostExpected(entries: readonly ExpectedRefusals[]): BucketLayer | undefined {
  const by = new Map<BucketLayer, number>();
  for (const e of entries) by.set(e.layer, (by.get(e.layer) ?? 0) + e.count);
  let best: BucketLayer | undefined;
  for (const [layer, n] of by) if (best === undefined || n > by.get(best)!) best = layer;
  return best;
}

export function attributeAwsLines(lines: readonly ThrottledLogLine[], expected: readonly ExpectedRefusals[]): AwsLayerAttribution {
  const byKeySecond = new Map<string, ExpectedRefusals[]>();
  const byKey = new Map<string, ExpectedRefusals[]>();
  for (const e of expected) {
    const at = `${e.keyId}@${e.epochSecond}`;
    byKeySecond.set(at, [...(byKeySecond.get(at) ?? []), e]);
    byKey.set(e.keyId, [...(byKey.get(e.keyId) ?? []), e]);
  }
  const byLayer = emptyLayerCounts();
  let inferred = 0;
  let unattributed = 0;
  for (const line of lines) {
    if (line.responseType === 'QUOTA_EXCEEDED') {
      byLayer.quota++;
      continue;
    }
    const key = line.apiKeyId;
    let layer: BucketLayer | undefined;
    if (line.responseType === 'THROTTLED' && key !== null) {
      const second = Math.floor(line.requestTimeMs / 1000);
      for (const d of [0, -1, 1]) {
        layer = mostExpected(byKeySecond.get(`${key}@${second + d}`) ?? []);
        if (layer) break;
      }
      layer ??= mostExpected(byKey.get(key) ?? []);
    }
    if (!layer) {
      unattributed++;
      continue;
    }
    byLayer[layer]++;
    inferred++;
  }
  return { byLayer, inferred, unattributed };
}
