/** Reading a local sidecar's admin listener: counters, config dump and latest refusals. */
import { request } from 'undici';
import type { ConfigDump } from '../../mesh/admin.js';
import type { Refusal } from '../../mesh/inbound.js';

export type Counters = Record<string, number>;

const ADMIN_TIMEOUT_MS = 5_000;

async function getJson<T>(adminUrl: string, route: string): Promise<T> {
  const res = await request(adminUrl.replace(/\/$/, '') + route, { headersTimeout: ADMIN_TIMEOUT_MS, bodyTimeout: ADMIN_TIMEOUT_MS });
  if (res.statusCode !== 200) {
    await res.body.dump();
    throw new Error(`${adminUrl}${route} answered ${res.statusCode}`);
  }
  return (await res.body.json()) as T;
}

export const fetchStats = (adminUrl: string) => getJson<Counters>(adminUrl, '/stats');
export const fetchConfigDump = (adminUrl: string) => getJson<ConfigDump>(adminUrl, '/config_dump');
export const fetchRefusals = (adminUrl: string) => getJson<Refusal[]>(adminUrl, '/refusals');

/** after − before for every counter that moved. */
export function counterDelta(before: Counters, after: Counters): Counters {
  const out: Counters = {};
  for (const k of new Set([...Object.keys(before), ...Object.keys(after)])) {
    const d = (after[k] ?? 0) - (before[k] ?? 0);
    if (d !== 0) out[k] = d;
  }
  return out;
}
