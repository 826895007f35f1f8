/** The soak's figures, computed from the raw attempts and kills, and their text rendering. */
import type { Kill } from './chaos.js';
import type { OrderCheck, ScannedProcess } from './checks.js';
import type { Attempt, OrderRecord } from './order-client.js';

export interface KillRecovery {
  name: string;
  pid: number;
  /** Seconds into the soak. */
  atS: number;
  /** From the kill to the answer of the first request sent after it that got a 2xx; null if none did. */
  recoveryMs: number | null;
  restartMs?: number;
  restartProblem?: string;
}

export interface SoakReport {
  options: { minutes: number; rate: number; killEverySeconds: number; seed: number };
  durationS: number;
  orders: { placed: number; created: number; refused: number; gaveUp: number; retried: number };
  requests: number;
  ok2xx: number;
  non2xxByCause: Record<string, number>;
  kills: KillRecovery[];
  recoveryByProcess: Record<string, { kills: number; medianMs: number | null; maxMs: number | null }>;
  checks: {
    orders: OrderCheck;
    /** Processes naming the state folder beside the running stack's own, before `down`. */
    orphans: ScannedProcess[];
    /** Processes naming the state folder after `down`. */
    leftAfterDown: ScannedProcess[];
    fatal?: string;
    pass: boolean;
  };
}

function median(values: number[]): number | null {
  if (values.length === 0) return null;
  const s = [...values].sort((a, b) => a - b);
  return s[Math.floor((s.length - 1) / 2)];
}

export function recoveries(kills: Kill[], attempts: Attempt[], startMs: number): KillRecovery[] {
  const ok = attempts.filter((a) => a.status >= 200 && a.status < 300).sort((a, b) => a.sentMs - b.sentMs);
  return kills.map((k) => {
    const next = ok.filter((a) => a.sentMs > k.atMs).reduce<Attempt | undefined>((best, a) => (!best || a.doneMs < best.doneMs ? a : best), undefined);
    return {
      name: k.name,
      pid: k.pid,
      atS: Math.round((k.atMs - startMs) / 100) / 10,
      recoveryMs: next ? Math.round(next.doneMs - k.atMs) : null,
      ...(k.restartMs === undefined ? {} : { restartMs: k.restartMs }),
      ...(k.restartProblem ? { restartProblem: k.restartProblem } : {}),
    };
  });
}

export function byProcess(kills: KillRecovery[]): SoakReport['recoveryByProcess'] {
  const out: SoakReport['recoveryByProcess'] = {};
  for (const name of [...new Set(kills.map((k) => k.name))].sort()) {
    const times = kills.filter((k) => k.name === name && k.recoveryMs !== null).map((k) => k.recoveryMs!);
    out[name] = { kills: kills.filter((k) => k.name === name).length, medianMs: median(times), maxMs: times.length ? Math.max(...times) : null };
  }
  return out;
}

export function countCauses(attempts: Attempt[]): { ok2xx: number; non2xxByCause: Record<string, number> } {
  const non2xxByCause: Record<string, number> = {};
  let ok2xx = 0;
  for (const a of attempts) {
    if (a.status >= 200 && a.status < 300) ok2xx++;
    else non2xxByCause[a.cause] = (non2xxByCause[a.cause] ?? 0) + 1;
  }
  return { ok2xx, non2xxByCause };
}

export function orderCounts(records: OrderRecord[]): SoakReport['orders'] {
  return {
    placed: records.length,
    created: records.filter((r) => r.outcome === 'created').length,
    refused: records.filter((r) => r.outcome === 'refused').length,
    gaveUp: records.filter((r) => r.outcome === 'gave-up').length,
    retried: records.filter((r) => r.tries > 1).length,
  };
}

function mark(ok: boolean): string {
  return ok ? '✔' : '✖';
}

export function renderReport(r: SoakReport): string {
  const c = r.checks;
  const lines = [
    `soak: ${r.durationS} s at ${r.options.rate} orders/s, a SIGKILL every ${r.options.killEverySeconds} s (seed ${r.options.seed})`,
    `orders: ${r.orders.placed} placed, ${r.orders.created} created, ${r.orders.refused} refused, ${r.orders.gaveUp} given up, ${r.orders.retried} needed a retry`,
    `requests: ${r.requests}, 2xx: ${r.ok2xx}, non-2xx: ${r.requests - r.ok2xx}`,
    ...Object.entries(r.non2xxByCause)
      .sort((a, b) => b[1] - a[1])
      .map(([cause, n]) => `  ${String(n).padStart(6)}  ${cause}`),
    'kills (recovery = kill → the first 2xx of a request sent after it):',
    ...r.kills.map((k) => `  ${k.atS.toFixed(1).padStart(7)} s  ${k.name.padEnd(16)} pid ${String(k.pid).padEnd(7)} ${k.recoveryMs === null ? 'never recovered' : `${k.recoveryMs} ms`}${k.restartMs === undefined ? '' : ` (stack started again in ${k.restartMs} ms${k.restartProblem ? `; first: ${k.restartProblem}` : ''})`}`),
    'recovery by process: ' + Object.entries(r.recoveryByProcess).map(([n, s]) => `${n} ×${s.kills} median ${s.medianMs ?? '-'} ms max ${s.maxMs ?? '-'} ms`).join('; '),
    `${mark(c.orders.lost.length === 0)} no order answered 201 is lost (${c.orders.created} read back${c.orders.lost.length ? `; lost: ${JSON.stringify(c.orders.lost.slice(0, 5))}` : ''})`,
    `${mark(c.orders.duplicated.length === 0 && c.orders.shared.length === 0)} no order is duplicated${c.orders.duplicated.length ? `: ${JSON.stringify(c.orders.duplicated.slice(0, 5))}` : ''}`,
    `${mark(c.orphans.length === 0)} no process orphaned${c.orphans.length ? `: ${c.orphans.map((p) => `${p.pid} ${p.command}`).join('; ')}` : ''}`,
    `${mark(c.leftAfterDown.length === 0)} down leaves nothing${c.leftAfterDown.length ? `: ${c.leftAfterDown.map((p) => `${p.pid} ${p.command}`).join('; ')}` : ''}`,
    ...(c.fatal ? [`✖ the soak stopped early: ${c.fatal}`] : []),
    c.pass ? 'PASS' : 'FAIL',
  ];
  return lines.join('\n');
}
