/**
 * Scenario 2's "failed mTLS negotiations result in visible errors and alerts", locally: the rules
 * users load into Prometheus (manifests/prometheus/meshgw-alerts.yaml), evaluated by meshgw over the
 * sidecars' own /stats/prometheus, must fire for the refusals `verify mtls` just caused, name the
 * sidecars that refused, and clear once the refusals leave the window while only legitimate traffic
 * flows.
 *
 * Two checks share one recorder, because the window has to start before the refusal checks run and
 * the runner hands nothing from one check to the next: `mtls.alert.baseline` goes before the refusal
 * checks and scrapes once; `mtls.alert` goes after them, scrapes again, evaluates, then keeps scraping
 * every second under legitimate traffic until the alert clears. The recorder belongs to one checks
 * list (localMtlsChecks builds a fresh one per run).
 *
 * Prometheus would evaluate the rules' [1m] windows over 15 s scrapes; verify cannot wait minutes, so
 * it scrapes every second and evaluates the same expressions with a range of a few seconds — long
 * enough to hold the baseline scrape — and says so in its detail line.
 */
import { describeRangeOverride, evaluateAlerts, type FiringAlert } from '../../alerts/evaluate.js';
import { PROMETHEUS_PATH, type Scrape } from '../../metrics/contract.js';
import { isScrape, scrapeHttp } from '../../top/http-scrape.js';
import type { TargetDown } from '../../top/types.js';
import { standardKey, ShopClient } from '../auth/shop-client.js';
import type { Check, CheckResult } from '../checks.js';
import { counterDelta, fetchStats, type Counters } from './local-admin.js';
import type { LocalMtlsContext } from './local-context.js';

export const MTLS_ALERT = 'MeshMtlsHandshakeFailures';
export const AUTHZ_ALERT = 'MeshAuthorizationDenied';

/** The JSON /stats counters of a refused handshake: which sidecars must the alert name. */
const REFUSAL_COUNTERS = ['ssl.fail_verify_no_cert', 'ssl.fail_verify_error', 'ssl.fail_verify_san', 'ssl.connection_error'];

export interface LocalAlertOptions {
  /** The shortest range evaluated in place of the rules' [1m]/[5m] (default 5 s). */
  minRangeMs?: number;
  /** The longest: refusal checks slower than this leave the baseline out of reach (default 30 s). */
  maxRangeMs?: number;
  /** Between scrapes while waiting for the alert to clear (default 1 s, "verify scrapes every second"). */
  scrapeIntervalMs?: number;
  now?: () => number;
  sleep?: (ms: number) => Promise<void>;
}

interface Round {
  scrapes: Scrape[];
  /** JSON /stats per app, replicas added up. */
  counters: Record<string, Counters>;
}

const DEFAULTS = { minRangeMs: 5_000, maxRangeMs: 30_000, scrapeIntervalMs: 1_000 };

function sidecars(ctx: LocalMtlsContext) {
  return ctx.mesh.workloads.filter((w) => w.adminUrl && w.inboundUrl);
}

async function scrapeRound(ctx: LocalMtlsContext, now: () => number): Promise<Round> {
  const namespace = ctx.mesh.config.mesh.namespace;
  const results: (Scrape | TargetDown)[] = [];
  const counters: Record<string, Counters> = {};
  for (const w of sidecars(ctx)) {
    const app = w.service ?? w.name;
    const target = { namespace, pod: w.name, app, url: `${w.adminUrl!.replace(/\/$/, '')}${PROMETHEUS_PATH}` };
    results.push(await scrapeHttp(target, { now }));
    const total = (counters[app] ??= {});
    for (const [k, v] of Object.entries(await fetchStats(w.adminUrl!))) if (typeof v === 'number') total[k] = (total[k] ?? 0) + v;
  }
  const down = results.filter((r): r is TargetDown => !isScrape(r));
  if (down.length > 0) throw new Error(`could not scrape ${down.map((d) => `${d.url} (${d.reason})`).join(', ')}`);
  return { scrapes: results.filter(isScrape), counters };
}

function refusedApps(before: Round, after: Round): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [app, c] of Object.entries(after.counters)) {
    const d = counterDelta(before.counters[app] ?? {}, c);
    const n = REFUSAL_COUNTERS.reduce((sum, k) => sum + (d[k] ?? 0), 0);
    if (n > 0) out[app] = n;
  }
  return out;
}

/** "meshgw/users (connection_error, fail_verify_no_cert)": per sidecar, the reasons its rules fired for. */
function describe(alerts: FiringAlert[]): string {
  const byApp = new Map<string, string[]>();
  for (const a of alerts) {
    const key = `${a.labels.namespace}/${a.labels.app}`;
    byApp.set(key, [...(byApp.get(key) ?? []), ...(a.labels.reason ? [a.labels.reason] : [])]);
  }
  return [...byApp].map(([app, reasons]) => (reasons.length ? `${app} (${reasons.sort().join(', ')})` : app)).join(', ');
}

/** The pair of checks: put `baseline` before the refusal checks and `verdict` after them. */
export function localAlertChecks(options: LocalAlertOptions = {}): { baseline: Check<LocalMtlsContext>; verdict: Check<LocalMtlsContext> } {
  const opts = { ...DEFAULTS, ...options };
  const now = opts.now ?? Date.now;
  const sleep = opts.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  let first: Round | undefined;

  const baseline: Check<LocalMtlsContext> = {
    id: 'mtls.alert.baseline',
    title: "scrapes the sidecars' /stats/prometheus before the refusals (the alert window's start)",
    timeoutMs: 15_000,
    async run(ctx) {
      first = await scrapeRound(ctx, now);
      const series = first.scrapes.reduce((n, s) => n + s.samples.length, 0);
      const firing = evaluateAlerts(first.scrapes, now(), { rangeMs: opts.minRangeMs }).filter((a) => a.alert === MTLS_ALERT);
      return { ok: true, detail: `${first.scrapes.length} sidecars, ${series} samples at ${PROMETHEUS_PATH}`, data: { targets: first.scrapes.map((s) => s.target.url), firingBefore: firing } };
    },
  };

  async function verdict(ctx: LocalMtlsContext): Promise<CheckResult> {
    if (!first) return { ok: false, detail: 'no baseline scrape: mtls.alert.baseline did not run before the refusals', hint: 'Keep mtls.alert.baseline before the refusal checks in localMtlsChecks.' };
    const start = first;
    const second = await scrapeRound(ctx, now);
    const refused = refusedApps(start, second);
    const span = Math.max(...second.scrapes.map((s) => s.at)) - Math.min(...start.scrapes.map((s) => s.at));
    // The window must reach back to the baseline, in whole seconds as a PromQL range would be written.
    const rangeMs = Math.max(opts.minRangeMs, Math.ceil((span + 1_000) / 1_000) * 1_000);
    const note = `${describeRangeOverride(rangeMs)}: verify scrapes every second`;
    if (rangeMs > opts.maxRangeMs) {
      return { ok: false, detail: `the refusal checks took ${(span / 1000).toFixed(1)} s, longer than the ${opts.maxRangeMs / 1000} s window verify evaluates`, hint: 'The machine is overloaded: run verify mtls again.' };
    }
    const history = [...start.scrapes, ...second.scrapes];
    const at = Math.max(...second.scrapes.map((s) => s.at));
    const fired = evaluateAlerts(history, at, { rangeMs });
    const mtls = fired.filter((a) => a.alert === MTLS_ALERT);
    const authz = fired.filter((a) => a.alert === AUTHZ_ALERT);
    const named = new Set(mtls.map((a) => a.labels.app));
    const missing = Object.keys(refused).filter((app) => !named.has(app));
    const extra = [...named].filter((app) => !(app in refused));
    const data: Record<string, unknown> = { rangeMs, refusedBySidecar: refused, fired: fired.map(({ alert, labels, value }) => ({ alert, labels, value })) };
    if (Object.keys(refused).length === 0) return { ok: false, detail: `no sidecar counted a refused handshake since the baseline; ${note}`, data, hint: 'The refusal checks must run between mtls.alert.baseline and mtls.alert.' };
    if (missing.length > 0 || extra.length > 0) {
      return {
        ok: false,
        detail: `${MTLS_ALERT} fired for [${describe(mtls)}] but the sidecars that refused are [${Object.entries(refused).map(([a, n]) => `${a} (${n})`).join(', ')}]; ${note}`,
        data,
        hint: `The sidecars must serve envoy_listener_ssl_* at ${PROMETHEUS_PATH} with the same counts as their /stats (src/metrics/envoy-names.ts).`,
      };
    }

    // Only legitimate traffic from here on; scrape every second until the refusals leave the window.
    const client = new ShopClient(ctx.endpoint.baseUrl);
    const key = standardKey(ctx.endpoint)?.value;
    let legit = 0;
    let failedLegit = 0;
    let clearedAt: number | undefined;
    try {
      const deadline = at + rangeMs + 5 * opts.scrapeIntervalMs;
      while (now() <= deadline) {
        await sleep(opts.scrapeIntervalMs);
        const reply = await client.listProducts(key);
        if (reply.status === 200) legit++;
        else failedLegit++;
        const round = await scrapeRound(ctx, now);
        history.push(...round.scrapes);
        const t = Math.max(...round.scrapes.map((s) => s.at));
        if (evaluateAlerts(history, t, { rangeMs }).every((a) => a.alert !== MTLS_ALERT)) {
          clearedAt = t;
          break;
        }
      }
    } finally {
      await client.close();
    }
    data.legitRequests = legit;
    data.clearedAfterMs = clearedAt === undefined ? null : clearedAt - at;
    const authzLine = authz.length > 0 ? `; ${AUTHZ_ALERT} fired for ${describe(authz)}` : '';
    if (clearedAt === undefined) {
      return { ok: false, detail: `${MTLS_ALERT} fired for ${describe(mtls)} but had not cleared ${(rangeMs / 1000).toFixed(0)} s later (${legit} legitimate requests); ${note}`, data, hint: 'Something still fails handshakes: look at the sidecars /refusals.' };
    }
    const legitLine = `${legit} legitimate request${legit === 1 ? '' : 's'}${failedLegit ? ` (${failedLegit} failed)` : ''}`;
    return { ok: true, detail: `${MTLS_ALERT} fired for ${describe(mtls)}${authzLine}, cleared ${((clearedAt - at) / 1000).toFixed(1)} s later under ${legitLine}; ${note}`, data };
  }

  return {
    baseline,
    verdict: { id: 'mtls.alert', title: `trips the ${MTLS_ALERT} alert (the Prometheus rules file) for the refusing sidecars, and it clears afterwards`, timeoutMs: 60_000, run: verdict },
  };
}
