/**
 * verify mtls on EKS: the mesh's own objects (PeerAuthentication, AuthorizationPolicies, trust root),
 * the legitimate flow with the sidecars' handshake counters, and refusals provoked from short-lived
 * pods, each refused and counted by the callee's sidecar.
 */
import { X509Certificate } from 'node:crypto';
import { authorizationTable, principal, serviceDnsName, serviceNames } from '../../config/topology.js';
import { SERVICE_PORT } from '../../k8s/labels.js';
import type { K8sObject } from '../../k8s/manifests/types.js';
import { ShopClient, describeReply, standardKey } from '../auth/shop-client.js';
import { openSession } from '../auth/session.js';
import type { Check, CheckResult } from '../checks.js';
import { DEFAULT_CERT_WARN_DAYS, type CertExpiryPolicy } from '../policy-options.js';
import { MTLS_ALARM_DEADLINE_MS, MTLS_ALARM_POLL_MS, mtlsAlarmCheck, type MtlsAlarmCheckOptions } from './alarm-check.js';
import { awsExpiryCheck } from './expiry-check.js';
import { awsMatrixCheck } from './matrix-check.js';
import { REFUSAL_COUNTERS, hasStat, outboundHandshakeCounter, rbacDeniedCounter, sumCounters, type CounterSpec } from './envoy-stats.js';
import type { AwsMtlsContext, ProbeResult } from './mtls-context.js';
import { runningIstioVersion } from './istio-running.js';

const APP = 'app.kubernetes.io/name';

function fingerprint(pem: string): string | undefined {
  try {
    return new X509Certificate(pem).fingerprint256;
  } catch {
    return undefined;
  }
}

/** A counter summed over a workload's pods, and whether every pod emits it at all (its witness is there). */
interface CounterReading {
  total: number;
  pods: number;
  /** Pods whose sidecar lacks the witness: started without the stats, so their count means nothing. */
  blind: string[];
}

async function readCounter(ctx: AwsMtlsContext, workload: string, spec: CounterSpec): Promise<CounterReading> {
  const ns = ctx.config.mesh.namespace;
  const pods = await ctx.cluster.podsOf(ns, workload);
  const reading: CounterReading = { total: 0, pods: pods.length, blind: [] };
  for (const pod of pods) {
    const stats = await ctx.cluster.proxyStats(ns, pod);
    if (!hasStat(stats, spec.witness)) reading.blind.push(pod);
    reading.total += sumCounters(stats, spec.counted);
  }
  return reading;
}

/** Why a reading cannot be trusted, as a failed check result; undefined when it can. */
function unusable(ctx: AwsMtlsContext, workload: string, spec: CounterSpec, r: CounterReading): CheckResult | undefined {
  if (r.pods === 0) return { ok: false, detail: `no running ${workload} pod to read counters from`, hint: `Run \`meshgw deploy\` and check the ${workload} pods in ${ctx.config.mesh.namespace}.` };
  if (r.blind.length === 0) return undefined;
  return { ok: false, detail: `${workload} sidecar(s) ${r.blind.join(', ')} do not emit ${spec.witness.source}`, hint: spec.missingHint(ctx.config.mesh.namespace) };
}

/** A caller/callee pair the table forbids: the RBAC refusal to provoke. */
export function forbiddenPair(ctx: Pick<AwsMtlsContext, 'config'>): { caller: string; callee: string } | undefined {
  const table = authorizationTable(ctx.config);
  for (const callee of serviceNames(ctx.config)) {
    const caller = serviceNames(ctx.config).find((s) => s !== callee && !table[callee].includes(s));
    if (caller) return { caller, callee };
  }
  return undefined;
}

function url(ctx: AwsMtlsContext, service: string, scheme: 'http' | 'https'): string {
  return `${scheme}://${serviceDnsName(ctx.config, service)}:${SERVICE_PORT}/healthz`;
}

const CURL = "curl -sS -o /dev/null -w '%{http_code}' --max-time 5";

/** Runs a refusal probe and checks both the verdict and that the callee's counter moved. */
async function refusal(ctx: AwsMtlsContext, callee: string, counter: CounterSpec, probe: () => Promise<ProbeResult>, refused: (r: ProbeResult) => boolean, what: string): Promise<CheckResult> {
  const before = await readCounter(ctx, callee, counter);
  // Without the counter, a refusal could not be told from a dropped probe: fail before provoking anything.
  const blind = unusable(ctx, callee, counter, before);
  if (blind) return blind;
  const r = await probe();
  const after = await readCounter(ctx, callee, counter);
  const delta = after.total - before.total;
  const ok = refused(r) && delta > 0;
  const out = r.output.trim().split('\n').slice(-2).join(' ');
  return {
    ok,
    detail: `${what}: probe exit ${r.exitCode}${out ? ` (${out})` : ''}; ${callee} sidecar counter +${delta}`,
    hint: ok ? undefined : !refused(r) ? `The ${callee} sidecar let it through: check the PeerAuthentication and AuthorizationPolicy in ${ctx.config.mesh.namespace}.` : `Refused, but the counter ${counter.counted.source} did not move: the refusal happened before the ${callee} sidecar (a pod restarted?), or this Istio version counts it under another name.`,
    data: { exitCode: r.exitCode, counterDelta: delta, target: callee, counter: counter.counted.source, counterBefore: before.total, counterAfter: after.total },
  };
}

function policiesFor(policies: K8sObject[], service: string): K8sObject[] {
  return policies.filter((p) => ((p.spec as { selector?: { matchLabels?: Record<string, string> } })?.selector?.matchLabels ?? {})[APP] === service);
}

export interface AwsMtlsOptions {
  /** When the mesh roots warn (default: within 60 days). */
  certExpiry?: CertExpiryPolicy;
  now?: () => Date;
  /** The mTLS alarm check's wait (tests set it to 0). */
  alarm?: Partial<Pick<MtlsAlarmCheckOptions, 'deadlineMs' | 'pollMs' | 'sleep' | 'now'>>;
}

export function awsMtlsChecks(opts: AwsMtlsOptions = {}): Check<AwsMtlsContext>[] {
  // Right after the mTLS refusals (plaintext, foreign CA): the alarm returns to OK a minute after the last
  // failure, so waiting behind the RBAC probe and the matrix could miss an ALARM that came and went (moto has
  // no DescribeAlarmHistory to test a history read against). Its own clock: `now` may be pinned for the
  // expiry policy, and the alarm's wait needs one that moves.
  const alarmNow = opts.alarm?.now ?? Date.now;
  const alarm = mtlsAlarmCheck({ sinceMs: alarmNow(), deadlineMs: MTLS_ALARM_DEADLINE_MS, pollMs: MTLS_ALARM_POLL_MS, ...opts.alarm });
  const mesh: Check<AwsMtlsContext>[] = awsMeshChecks();
  mesh.splice(mesh.findIndex((c) => c.id === 'mtls.foreign-ca') + 1, 0, alarm);
  return [...mesh, awsExpiryCheck(opts.certExpiry ?? { warnDays: DEFAULT_CERT_WARN_DAYS }, opts.now ?? (() => new Date())), awsMatrixCheck()];
}

function awsMeshChecks(): Check<AwsMtlsContext>[] {
  return [
    {
      id: 'mtls.strict',
      title: 'requires mutual TLS for every workload in the namespace (PeerAuthentication STRICT)',
      fatal: true,
      async run(ctx) {
        const ns = ctx.config.mesh.namespace;
        const pas = await ctx.cluster.list('security.istio.io/v1', 'PeerAuthentication', ns);
        const wide = pas.filter((p) => !(p.spec as { selector?: unknown })?.selector);
        const strict = wide.some((p) => (p.spec as { mtls?: { mode?: string } })?.mtls?.mode === 'STRICT');
        const weaker = pas.filter((p) => {
          const s = p.spec as { mtls?: { mode?: string }; portLevelMtls?: Record<string, { mode?: string }> };
          return ['PERMISSIVE', 'DISABLE'].includes(s?.mtls?.mode ?? '') || Object.values(s?.portLevelMtls ?? {}).some((m) => m.mode !== 'STRICT');
        });
        const ok = strict && weaker.length === 0;
        return {
          ok,
          detail: `${pas.length} PeerAuthentication(s) in ${ns}; namespace-wide STRICT: ${strict ? 'yes' : 'no'}${weaker.length ? `; weaker: ${weaker.map((p) => p.metadata.name).join(', ')}` : ''}`,
          hint: ok ? undefined : 'Run `meshgw deploy` to apply the namespace policy, and remove PERMISSIVE overrides.',
          // For the evidence bundle: the Istio release that enforced it.
          data: { istioVersion: await runningIstioVersion(ctx.cluster) },
        };
      },
    },
    {
      id: 'mtls.authorization',
      title: 'lets each service be called only by the identities it declares (AuthorizationPolicy)',
      async run(ctx) {
        const policies = await ctx.cluster.list('security.istio.io/v1', 'AuthorizationPolicy', ctx.config.mesh.namespace);
        const table = authorizationTable(ctx.config);
        const wrong: string[] = [];
        for (const [svc, callers] of Object.entries(table)) {
          const allows = policiesFor(policies, svc).filter((p) => ((p.spec as { action?: string }).action ?? 'ALLOW') === 'ALLOW');
          const got = [...new Set(allows.flatMap((p) => ((p.spec as { rules?: { from?: { source?: { principals?: string[] } }[] }[] }).rules ?? []).flatMap((r) => (r.from ?? []).flatMap((f) => f.source?.principals ?? []))))].sort();
          const want = callers.map((c) => principal(ctx.config, c)).sort();
          if (allows.length === 0 || got.join(',') !== want.join(',')) wrong.push(`${svc}: allows [${got.join(', ')}], expected [${want.join(', ')}]`);
        }
        return { ok: wrong.length === 0, detail: wrong.length ? wrong.join('; ') : `${Object.keys(table).length} services allow exactly their callers`, hint: wrong.length ? 'Run `meshgw deploy` to reapply the policies.' : undefined };
      },
    },
    {
      id: 'mtls.root',
      title: "issues workload certificates under meshgw's mesh CA (istio-ca-root-cert)",
      async run(ctx) {
        const cm = await ctx.cluster.read('v1', 'ConfigMap', ctx.config.mesh.namespace, 'istio-ca-root-cert');
        const pem = ((cm?.data ?? {}) as Record<string, string>)['root-cert.pem'];
        const want = fingerprint(ctx.meshCaPem);
        const got = pem ? fingerprint(pem) : undefined;
        const ok = Boolean(got && got === want);
        return { ok, detail: got ? `cluster root ${got.slice(0, 23)}…, mesh CA ${want?.slice(0, 23)}…` : 'no istio-ca-root-cert in the namespace', hint: ok ? undefined : 'istiod started before the cacerts Secret existed: run `meshgw deploy` again, then restart istiod and the workloads.' };
      },
    },
    {
      id: 'mtls.flow',
      title: 'serves login → products → order through the invoke URL',
      async run(ctx) {
        const key = standardKey(ctx.endpoint);
        const client = new ShopClient(ctx.endpoint.baseUrl);
        try {
          const session = await openSession(client, key?.value);
          const order = await client.createOrder(key?.value, session.login.token, session.productId);
          return { ok: order.status === 201, detail: `order answered ${describeReply(order)}`, hint: order.status === 201 ? undefined : 'orders could not reach users/products through the mesh: check the orders sidecar log.' };
        } finally {
          await client.close();
        }
      },
    },
    {
      id: 'mtls.handshakes',
      title: "shows mTLS handshakes from orders to its backends in the sidecars' counters",
      async run(ctx) {
        const ns = ctx.config.mesh.namespace;
        const counts: Record<string, number> = {};
        for (const [caller, spec] of Object.entries(ctx.config.services)) {
          for (const backend of spec.backends) {
            const counter = outboundHandshakeCounter(backend, ns, SERVICE_PORT);
            const reading = await readCounter(ctx, caller, counter);
            const blind = unusable(ctx, caller, counter, reading);
            if (blind) return { ...blind, detail: `${caller}→${backend}: ${blind.detail}` };
            counts[`${caller}→${backend}`] = reading.total;
          }
        }
        const zero = Object.entries(counts).filter(([, n]) => n === 0).map(([k]) => k);
        return { ok: Object.keys(counts).length > 0 && zero.length === 0, detail: Object.entries(counts).map(([k, n]) => `${k} ${n}`).join(', ') || 'no service declares a backend', hint: zero.length ? `No handshake counted for ${zero.join(', ')}: run the flow check first, or check that the sidecars are injected.` : undefined, data: counts };
      },
    },
    {
      id: 'mtls.plaintext',
      title: 'refuses plaintext from a pod without a sidecar and counts it',
      async run(ctx) {
        const callee = serviceNames(ctx.config)[0];
        return refusal(ctx, callee, REFUSAL_COUNTERS.plaintext, () => ctx.cluster.runProbe({ name: `meshgw-probe-plain-${ctx.runId}`, namespace: ctx.config.mesh.namespace, sidecar: false, script: `${CURL} ${url(ctx, callee, 'http')}` }), (r) => r.exitCode !== 0 || /^000$/.test(r.output.trim()), 'plaintext');
      },
    },
    {
      id: 'mtls.foreign-ca',
      title: 'refuses a client certificate from another CA and counts it',
      async run(ctx) {
        const callee = serviceNames(ctx.config)[0];
        const script = `${CURL} -k --cert /probe/tls.crt --key /probe/tls.key ${url(ctx, callee, 'https')}`;
        return refusal(ctx, callee, REFUSAL_COUNTERS.foreignCa, () => ctx.cluster.runProbe({ name: `meshgw-probe-foreign-${ctx.runId}`, namespace: ctx.config.mesh.namespace, sidecar: false, script, files: { 'tls.crt': ctx.foreignClient.certPem, 'tls.key': ctx.foreignClient.keyPem } }), (r) => r.exitCode !== 0, 'foreign CA');
      },
    },
    {
      id: 'mtls.rbac',
      title: 'answers 403 to a valid identity that may not call the service, and counts rbac.denied',
      async run(ctx) {
        const pair = forbiddenPair(ctx);
        if (!pair) return { ok: true, detail: 'every service may call every other: no forbidden pair to try' };
        // The probe's own sidecar must be told to exit, or the pod never completes.
        const script = `code=$(${CURL} ${url(ctx, pair.callee, 'http')}); echo "$code"; curl -fsS -X POST http://127.0.0.1:15020/quitquitquit >/dev/null 2>&1; [ "$code" = 403 ]`;
        return refusal(ctx, pair.callee, rbacDeniedCounter(SERVICE_PORT), () => ctx.cluster.runProbe({ name: `meshgw-probe-rbac-${ctx.runId}`, namespace: ctx.config.mesh.namespace, sidecar: true, serviceAccount: pair.caller, script }), (r) => /\b403\b/.test(r.output), `${pair.caller} → ${pair.callee}`);
      },
    },
  ];
}
