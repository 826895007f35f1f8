import { MeshgwError } from '../../errors.js';
import type { Check, CheckResult } from '../checks.js';
import type { GatewayEndpoint } from '../target.js';
import { openSession } from '../auth/session.js';
import { limitedKey, ShopClient, standardKey } from '../auth/shop-client.js';
import type { ApiKeyRecord } from '../../gateway/spec.js';
import { allowedDeviation, resolveThrottleOptions, type ThrottleOptions } from './options.js';
import { bindingLimit, orderLevels, refillWaitMs, runPhase, type PhaseRun, type PhaseStream, type StreamOutcome } from './phase.js';

/** What every phase needs: a logged-in user, a product to order, and the keys to drive. */
interface ThrottleSession {
  run: PhaseRun;
  standard: ApiKeyRecord;
  limited?: ApiKeyRecord;
}

// A path under the stage that no route serves: the gateway answers it before any bucket is
// touched, so warming connections on it does not spend tokens.
const WARMUP_PATH = '/__meshgw_warmup';
const realSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

function describeOutcome(o: StreamOutcome, tol: number): string {
  return `offered ${o.offered}, 2xx ${o.ok2xx}, 429 ${o.throttled429}, other ${o.other}; model ${o.predicted} ±${tol}; p50 ${o.p50Ms} ms, p99 ${o.p99Ms} ms`;
}

function phaseData(o: StreamOutcome, tol: number, extra: Record<string, unknown> = {}): Record<string, unknown> {
  const { label: _label, ...rest } = o;
  return { ...rest, tolerance: tol, ...extra };
}

/** Whether admissions match the model within tolerance, with nothing but 2xx and 429. */
function matchesModel(o: StreamOutcome, tol: number, target: GatewayEndpoint['target']): boolean {
  const otherAllowed = target === 'aws' ? tol : 0;
  return Math.abs(o.ok2xx - o.predicted) <= tol && o.other <= otherAllowed && o.skippedForInFlightBound === 0;
}

/**
 * The assignment's rate-limiting scenario against POST /orders: normal load, a burst, over the
 * limit, and per-key isolation. Each phase starts with full buckets and is judged against the
 * multi-level token-bucket model fed the actual send times.
 */
export function throttleChecks(partial: Partial<ThrottleOptions> = {}): Check<GatewayEndpoint>[] {
  const opts = resolveThrottleOptions(partial);
  const sleep = opts.sleep ?? realSleep;
  const sessions = new WeakMap<GatewayEndpoint, Promise<ThrottleSession>>();

  const session = (ep: GatewayEndpoint): Promise<ThrottleSession> => {
    let s = sessions.get(ep);
    if (!s) sessions.set(ep, (s = openThrottleSession(ep)));
    return s;
  };

  /** Waits until every bucket the phase touches is full, then runs it. */
  const phase = async (ep: GatewayEndpoint, streams: PhaseStream[]): Promise<StreamOutcome[]> => {
    const s = await session(ep);
    const levels = streams.flatMap((st) => orderLevels(ep.config.gateway, st.key));
    await sleep(refillWaitMs(levels));
    return runPhase(s.run, streams);
  };

  const judge = (ep: GatewayEndpoint, o: StreamOutcome, hint: string, extra: Record<string, unknown>): CheckResult => {
    const tol = allowedDeviation(o.offered, opts.tolerance);
    return { ok: matchesModel(o, tol, ep.target), detail: describeOutcome(o, tol), hint, data: phaseData(o, tol, extra) };
  };

  const seconds = (n: number) => n * 1000 + 60_000;
  return [
    {
      id: 'throttle.session',
      title: 'registers, logs in and finds a product through the gateway',
      fatal: true,
      run: async (ep) => {
        const s = await session(ep);
        return { ok: true, detail: `user logged in; ordering ${s.run.productId} with key ${s.standard.name}${s.limited ? ` and ${s.limited.name}` : ''}` };
      },
    },
    {
      id: 'throttle.normal',
      title: `serves every request at ${opts.normalRps} RPS`,
      timeoutMs: seconds(opts.normalSeconds),
      run: async (ep) => {
        const { standard } = await session(ep);
        const [o] = await phase(ep, [{ label: 'standard', key: standard, rate: opts.normalRps, count: Math.round(opts.normalRps * opts.normalSeconds) }]);
        const r = judge(ep, o, 'Requests below the limit were refused or failed: see the gateway access log (errorType) and the orders service log.', { rps: opts.normalRps, seconds: opts.normalSeconds });
        // Below the limit the assignment expects every request served: locally, not one 429.
        const allServed = o.predicted < o.offered || ep.target === 'aws' || o.throttled429 === 0;
        return { ...r, ok: r.ok && allServed };
      },
    },
    {
      id: 'throttle.burst',
      title: 'admits about a burst of simultaneous requests and answers 429 to the rest',
      timeoutMs: 60_000,
      run: async (ep) => {
        const { standard } = await session(ep);
        const limit = bindingLimit(orderLevels(ep.config.gateway, standard));
        const count = opts.burstCount ?? 2 * limit.burst;
        const [o] = await phase(ep, [{ label: 'standard', key: standard, rate: Infinity, count }]);
        return judge(ep, o, 'The burst admitted differs from the bucket size: check gateway.throttle, methodThrottles and the usage plan burst.', { rps: null, seconds: 0 });
      },
    },
    {
      id: 'throttle.over-limit',
      title: `throttles ${opts.overRps} RPS to the rate plus the burst, with 429 for the rest`,
      timeoutMs: seconds(opts.overSeconds),
      run: async (ep) => {
        const { standard } = await session(ep);
        const [o] = await phase(ep, [{ label: 'standard', key: standard, rate: opts.overRps, count: Math.round(opts.overRps * opts.overSeconds) }]);
        return judge(ep, o, 'Admitted requests differ from rate × time + burst: check the limits in meshgw.yaml match the running gateway (meshgw up again after editing).', {
          rps: opts.overRps,
          seconds: opts.overSeconds,
        });
      },
    },
    {
      id: 'throttle.isolation',
      title: 'keeps serving one key while another is throttled',
      timeoutMs: seconds(opts.isolationSeconds),
      run: async (ep) => {
        const { standard, limited } = await session(ep);
        if (!limited) return { ok: true, detail: 'not applicable: only one usage plan has keys' };
        const lim = bindingLimit(orderLevels(ep.config.gateway, limited));
        const std = bindingLimit(orderLevels(ep.config.gateway, standard));
        const hammerRps = 3 * lim.rate;
        const modestRps = Math.max(1, Math.min(20, std.rate / 2 - lim.rate));
        const [hammered, served] = await phase(ep, [
          { label: limited.name, key: limited, rate: hammerRps, count: Math.round(hammerRps * opts.isolationSeconds) },
          { label: standard.name, key: standard, rate: modestRps, count: Math.round(modestRps * opts.isolationSeconds) },
        ]);
        const tol = allowedDeviation(hammered.offered, opts.tolerance);
        const servedOk = served.ok2xx === served.offered || (ep.target === 'aws' && served.offered - served.ok2xx <= allowedDeviation(served.offered, opts.tolerance));
        const ok = matchesModel(hammered, tol, ep.target) && servedOk;
        return {
          ok,
          detail: `${limited.name}: ${describeOutcome(hammered, tol)} | ${standard.name}: ${served.ok2xx}/${served.offered} served`,
          hint: servedOk ? 'The hammered key was not throttled to its own plan: check its usage plan in meshgw.yaml.' : 'Throttling one key spilled over to another: per-key buckets must be separate and a refused request must not spend shared tokens.',
          data: phaseData(hammered, tol, { rps: hammerRps, seconds: opts.isolationSeconds, key: limited.name, served: { key: standard.name, rps: modestRps, ...served } }),
        };
      },
    },
  ];
}

async function openThrottleSession(ep: GatewayEndpoint): Promise<ThrottleSession> {
  const standard = standardKey(ep);
  if (!standard) throw new MeshgwError('CHECK_FAILED', 'no API key to drive the gateway with', 'Add a usage plan with an API key to gateway.usagePlans.');
  const client = new ShopClient(ep.baseUrl);
  try {
    const s = await openSession(client, standard.value);
    return {
      standard,
      limited: limitedKey(ep),
      run: { token: s.login.token, productId: s.productId, baseUrl: ep.baseUrl, gateway: ep.config.gateway, warmupPath: WARMUP_PATH },
    };
  } finally {
    await client.close();
  }
}
