/**
 * After the refusals: the stack's mTLS alarm must go to ALARM because of them (issue 16 §6, "failed mTLS
 * negotiations result in visible errors and alerts"). The path is long and every step is asynchronous:
 * the collector scrapes the sidecars every 30 s, its EMF events become metrics within a minute or two, and
 * the alarm evaluates one-minute periods; so the check polls DescribeAlarms until ALARM or a deadline.
 */
import type { MeshgwConfig } from '../../config/schema.js';
import { alarmName, meshMetricsLogGroupName, meshMetricsNamespace, MTLS_FAILURE_METRICS } from '../../aws/alarm-names.js';
import type { AlarmReading, AlarmSource, AlarmStateValue } from '../../aws/alarm-state.js';
import { TELEMETRY_NAMESPACE, ADOT_SERVICE } from '../../k8s/manifests/telemetry.js';
import type { Check, CheckResult } from '../checks.js';

export interface AlarmCheckContext {
  config: MeshgwConfig;
  /** The stack's alarms; absent when the session has no CloudWatch client (the check is then not run). */
  alarms?: AlarmSource;
}

export interface MtlsAlarmCheckOptions {
  /** When `verify mtls` began: an ALARM entered before it was not caused by this run's refusals. */
  sinceMs: number;
  deadlineMs: number;
  pollMs: number;
  now?: () => number;
  sleep?: (ms: number) => Promise<void>;
}

/** 5 minutes: scrape (30 s) + EMF to metric (≈1–2 min) + a one-minute alarm period, with room for lag. */
export const MTLS_ALARM_DEADLINE_MS = 5 * 60_000;
export const MTLS_ALARM_POLL_MS = 15_000;

interface Step {
  state: AlarmStateValue;
  atMs: number;
}

export function mtlsAlarmCheck(opts: MtlsAlarmCheckOptions): Check<AlarmCheckContext> {
  const now = opts.now ?? Date.now;
  const sleep = opts.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  return {
    id: 'mtls.alarm',
    title: "trips the stack's mTLS alarm in CloudWatch with the refusals",
    timeoutMs: opts.deadlineMs + 60_000,
    async run(ctx) {
      const name = alarmName(ctx.config.aws.stackName, 'meshMtls');
      if (!ctx.alarms) return { ok: true, notRun: true, detail: `not run: this session reads no CloudWatch alarms (${name})` };
      const first = await ctx.alarms.read(name);
      if (!first) return { ok: false, detail: `no alarm ${name} in this account and region`, hint: 'Run `meshgw up --target aws`: a stack created before the alarms existed lacks them.' };
      const start = now();
      const deadline = start + opts.deadlineMs;
      const steps: Step[] = [{ state: first.state, atMs: start }];
      let last: AlarmReading = first;
      for (;;) {
        if (tripped(last, steps, opts.sinceMs)) return passed(name, last, steps, start);
        if (now() >= deadline) break;
        await sleep(opts.pollMs);
        last = (await ctx.alarms.read(name)) ?? last;
        if (last.state !== steps.at(-1)!.state) steps.push({ state: last.state, atMs: now() });
      }
      return await failed(ctx, name, last, steps, opts.sinceMs);
    },
  };
}

/** ALARM caused by this run: seen entering it while polling, or entered after the run began. */
function tripped(r: AlarmReading, steps: Step[], sinceMs: number): boolean {
  if (r.state !== 'ALARM') return false;
  return steps.some((s) => s.state !== 'ALARM') || r.transitionedAtMs >= sinceMs;
}

function path(steps: Step[]): string {
  return steps.map((s) => s.state).join(' → ');
}

function passed(name: string, r: AlarmReading, steps: Step[], start: number): CheckResult {
  // Seen as ALARM on the first read: the transition happened while the refusals ran; say when.
  const shown = steps.length > 1 ? path(steps) : `→ ALARM at ${new Date(r.transitionedAtMs).toISOString()}`;
  return {
    ok: true,
    detail: `${name}: ${shown} (${r.reason || 'no reason given'})`,
    data: { alarm: name, states: steps.map((s) => ({ state: s.state, afterMs: s.atMs - start })), transitionedAt: new Date(r.transitionedAtMs).toISOString() },
  };
}

async function failed(ctx: AlarmCheckContext, name: string, r: AlarmReading, steps: Step[], sinceMs: number): Promise<CheckResult> {
  const stack = ctx.config.aws.stackName;
  const data = { alarm: name, states: steps.map((s) => s.state), reason: r.reason };
  if (r.state === 'ALARM') {
    return {
      ok: false,
      detail: `${name} has been in ALARM since ${new Date(r.transitionedAtMs).toISOString()}, before this run began (${new Date(sinceMs).toISOString()})`,
      hint: 'Earlier failures hold it there, so this run cannot show its own: it returns to OK a minute after the last failed handshake. Run `meshgw verify mtls --target aws` again then.',
      data,
    };
  }
  const namespace = meshMetricsNamespace(stack);
  const present = await ctx.alarms!.metricNames(namespace);
  const missing = MTLS_FAILURE_METRICS.filter((m) => !present.includes(m));
  const collector = `kubectl -n ${TELEMETRY_NAMESPACE} logs deploy/${ADOT_SERVICE}`;
  let hint: string;
  if (present.length === 0) {
    hint = `CloudWatch has no metric in ${namespace}: the ADOT collector is not sending. Check that it runs and what it logs (${collector}): pod discovery in ${ctx.config.mesh.namespace} (its Role), and its Pod Identity role's rights on the log group ${meshMetricsLogGroupName(stack)}.`;
  } else if (missing.length > 0) {
    hint = `CloudWatch lists ${present.length} metric(s) in ${namespace} but not ${missing.join(', ')}: the sidecars do not emit them (their proxyStatsMatcher is read at start: run \`meshgw deploy\`, then restart the pods), or they are new and not listed yet (ListMetrics lags by minutes).`;
  } else {
    hint = `Every mTLS failure metric exists in ${namespace}, yet the alarm stayed ${r.state}: the refusals had not reached it within the deadline (scrape, EMF and the one-minute period take minutes). Look at the alarm's history in the CloudWatch console, or run the check again.`;
  }
  return { ok: false, detail: `${name}: ${path(steps)} within the deadline (${r.reason || 'no reason given'})`, hint, data: { ...data, metricsPresent: present, metricsMissing: missing } };
}
