/**
 * Attributing every 429 of a throttle phase to the layer that refused it (issue 16 §4): the client's
 * own record of what it sent and got, matched by request id to the gateway's access log, and held
 * against the layer the token-bucket model expects. Also the per-key, per-second series the report
 * draws.
 */
import type { ThrottleLayer } from '../../metrics/contract.js';
import type { BucketLayer } from './layer-model.js';

export type LayerCounts = Record<ThrottleLayer, number>;

export function emptyLayerCounts(): LayerCounts {
  return { account: 0, method: 0, usagePlan: 0, quota: 0 };
}

/** One request the client sent, as the attribution needs it. */
export interface SentRequest {
  /** The API key's name (null: sent without a key). */
  key: string | null;
  /** Whole seconds after the phase started. */
  second: number;
  /** 0 when no HTTP answer came. */
  status: number;
  /** The answer's x-amzn-requestid, the access log's requestId. */
  requestId?: string;
  /** The model's binding layer for this request (layer-model.ts). */
  expected: BucketLayer;
  /** The key's usage plan has a quota, so a 'quota' refusal is possible (the model does not count quotas). */
  quotaPossible: boolean;
}

/** What the access log says of one request. */
export interface LoggedRequest {
  requestId: string;
  status: number;
  throttleLayer: ThrottleLayer | null;
}

export interface SecondPoint {
  second: number;
  ok: number;
  throttled: number;
  other: number;
  byLayer?: LayerCounts;
}

export interface KeySeries {
  key: string | null;
  points: SecondPoint[];
}

export interface LayerMismatch {
  requestId: string;
  key: string | null;
  second: number;
  expected: BucketLayer;
  logged: ThrottleLayer | null;
}

export interface ThrottleAttribution {
  byLayer: LayerCounts;
  /** Client-seen 429s with no access-log record (or no request id to find one by). */
  unmatched: number;
  /** Up to MAX_LISTED of each, for the detail and the JSON. */
  unmatchedIds: string[];
  mismatches: LayerMismatch[];
  mismatchCount: number;
  perSecondByKey: KeySeries[];
}

const MAX_LISTED = 10;

/** Whether a logged layer is the one the model expects (a quota refusal needs only a plan with a quota). */
export function layerAgrees(r: Pick<SentRequest, 'expected' | 'quotaPossible'>, logged: ThrottleLayer | null): boolean {
  return logged === 'quota' ? r.quotaPossible : logged === r.expected;
}

/**
 * Every 429 the client saw, looked up in the log records by request id: counted by its logged
 * layer, or as unmatched (no record, or a record with no layer), or as a mismatch with the model.
 */
export function attributeThrottles(sent: readonly SentRequest[], logged: ReadonlyMap<string, LoggedRequest>): ThrottleAttribution {
  const byLayer = emptyLayerCounts();
  const unmatchedIds: string[] = [];
  const mismatches: LayerMismatch[] = [];
  let unmatched = 0;
  let mismatchCount = 0;
  const layerOf: (ThrottleLayer | undefined)[] = sent.map((r) => {
    if (r.status !== 429) return undefined;
    const rec = r.requestId === undefined ? undefined : logged.get(r.requestId);
    if (!rec || rec.status !== 429 || rec.throttleLayer === null) {
      unmatched++;
      if (unmatchedIds.length < MAX_LISTED) unmatchedIds.push(r.requestId ?? '(no request id)');
      return undefined;
    }
    byLayer[rec.throttleLayer]++;
    if (!layerAgrees(r, rec.throttleLayer)) {
      mismatchCount++;
      if (mismatches.length < MAX_LISTED) mismatches.push({ requestId: rec.requestId, key: r.key, second: r.second, expected: r.expected, logged: rec.throttleLayer });
    }
    return rec.throttleLayer;
  });
  return { byLayer, unmatched, unmatchedIds, mismatches, mismatchCount, perSecondByKey: perSecondByKey(sent, layerOf) };
}

/**
 * 2xx, 429 and anything else per key and whole second of the phase, empty seconds filled in; with
 * `layers` (one per request, undefined for a request not attributed) each point also counts its 429s by layer.
 */
export function perSecondByKey(sent: readonly SentRequest[], layers?: readonly (ThrottleLayer | undefined)[]): KeySeries[] {
  const last = sent.reduce((m, r) => Math.max(m, r.second), -1);
  const series = new Map<string | null, SecondPoint[]>();
  sent.forEach((r, i) => {
    let points = series.get(r.key);
    if (!points) {
      points = Array.from({ length: last + 1 }, (_, second) => ({ second, ok: 0, throttled: 0, other: 0, ...(layers ? { byLayer: emptyLayerCounts() } : {}) }));
      series.set(r.key, points);
    }
    const p = points[r.second];
    if (r.status >= 200 && r.status < 300) p.ok++;
    else if (r.status === 429) {
      p.throttled++;
      const layer = layers?.[i];
      if (layer && p.byLayer) p.byLayer[layer]++;
    } else p.other++;
  });
  return [...series].map(([key, points]) => ({ key, points }));
}

/** "usagePlan 40, method 3" (layers with no 429 left out), or "none". */
export function describeLayers(c: LayerCounts): string {
  const parts = (Object.keys(c) as ThrottleLayer[]).filter((k) => c[k] > 0).map((k) => `${k} ${c[k]}`);
  return parts.length > 0 ? parts.join(', ') : 'none';
}
