/** `top`'s table: one row per edge, as linkerd viz edges/stat print them. */
import { renderTable } from '../verify/render.js';
import type { TopEdge, TopSnapshot } from './types.js';

/** ANSI: cursor home and clear screen, so each frame replaces the last on a terminal. */
export const CLEAR_SCREEN = '\u001b[H\u001b[2J';

const ms = (v: number | null) => (v === null ? '-' : v < 10 ? `${v.toFixed(1)}ms` : `${Math.round(v)}ms`);
const pct = (v: number | null) => (v === null ? '-' : `${(v * 100).toFixed(v === 1 ? 0 : 1)}%`);
const mtls = (v: boolean | null) => (v === null ? '-' : v ? 'yes' : 'NO');

function row(e: TopEdge): string[] {
  return [
    e.source,
    e.destination,
    mtls(e.mtls),
    e.sourcePrincipal ?? '-',
    e.rps.toFixed(1),
    pct(e.successRate),
    ms(e.p50Ms),
    ms(e.p95Ms),
    ms(e.p99Ms),
    String(e.requests),
    String(e.throttled429),
    String(e.errors5xx),
    e.alerts.length ? `⚠ ${e.alerts.join(', ')}` : '',
  ];
}

export function renderTop(s: TopSnapshot, opts: { live: boolean }): string {
  const time = s.at.slice(11, 19);
  const head = `meshgw top · ${s.target} · ${time} UTC · last ${s.windowSeconds.toFixed(1)} s${opts.live ? ' · Ctrl-C to quit' : ''}`;
  const lines = [head, ''];
  if (s.edges.length === 0) lines.push('no traffic between workloads yet: send requests through the gateway (e.g. `meshgw verify mtls`)');
  else lines.push(renderTable(['SOURCE', 'DESTINATION', 'MTLS', 'CALLER IDENTITY', 'RPS', 'SUCCESS', 'P50', 'P95', 'P99', 'REQS', '429', '5XX', 'ALERTS'], s.edges.map(row)));
  if (s.targetsDown.length) lines.push('', `not answering: ${s.targetsDown.map((d) => `${d.pod} (${d.reason})`).join(', ')}`);
  lines.push('', 'SUCCESS: share not answered 5xx (4xx and 429 are the caller’s, as linkerd counts); latency from the caller’s histogram.');
  return lines.join('\n');
}
