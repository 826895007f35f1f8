/**
 * The authorization matrix on EKS: one short-lived pod per caller identity, running under that
 * identity's ServiceAccount with an injected sidecar (so Istio's own certificate for it is what
 * the callee sees), calls every service once. Envoy's RBAC filter answers 403 "RBAC: access
 * denied" to a caller its AuthorizationPolicy does not list; anything else came from the app.
 */
import { serviceDnsName, serviceNames } from '../../config/topology.js';
import { SERVICE_PORT } from '../../k8s/labels.js';
import type { Check, CheckResult } from '../checks.js';
import { expectedMatrix, matrixCallers, matrixResult, OUTSIDER_WORKLOAD, type MatrixCell } from '../mtls/authz-matrix.js';
import type { AwsMtlsContext } from './mtls-context.js';

const MARK = 'meshgw-matrix';

/** The probe's script: one line "meshgw-matrix <service> <http code>" per service, then the sidecar is told to exit. */
export function matrixScript(ctx: Pick<AwsMtlsContext, 'config'>): string {
  const calls = serviceNames(ctx.config)
    .map((s) => `code=$(curl -sS -o /dev/null -w '%{http_code}' --max-time 5 http://${serviceDnsName(ctx.config, s)}:${SERVICE_PORT}/healthz); echo "${MARK} ${s} $code"`)
    .join('; ');
  // The probe's own sidecar must be told to exit, or the pod never completes.
  return `${calls}; curl -fsS -X POST http://127.0.0.1:15020/quitquitquit >/dev/null 2>&1; true`;
}

/** "meshgw-matrix users 403" lines → service → HTTP code (000: no answer). */
export function parseMatrixOutput(output: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const m of output.matchAll(new RegExp(`^${MARK} (\\S+) (\\d{3})$`, 'gm'))) out.set(m[1], m[2]);
  return out;
}

function observed(code: string | undefined): Pick<MatrixCell, 'observed' | 'evidence'> {
  if (code === undefined) return { observed: 'error', evidence: 'the probe printed no answer' };
  if (code === '403') return { observed: 'deny', evidence: '403 (Envoy RBAC)' };
  if (code === '000') return { observed: 'refused', evidence: 'no HTTP answer (connection refused or reset)' };
  return { observed: 'allow', evidence: `the app answered ${code}` };
}

async function inspect(ctx: AwsMtlsContext): Promise<CheckResult> {
  const answers = new Map<string, Map<string, string>>();
  for (const caller of matrixCallers(ctx.config)) {
    const r = await ctx.cluster.runProbe({
      name: `meshgw-probe-matrix-${caller.replace(/[^a-z0-9-]/g, '')}-${ctx.runId}`.slice(0, 63),
      namespace: ctx.config.mesh.namespace,
      sidecar: true,
      serviceAccount: caller,
      // The outsider's ServiceAccount exists only for the probe: a valid mesh identity nobody declares.
      ...(caller === OUTSIDER_WORKLOAD ? { createServiceAccount: true } : {}),
      script: matrixScript(ctx),
    });
    answers.set(caller, parseMatrixOutput(r.output));
  }
  const cells: MatrixCell[] = expectedMatrix(ctx.config).map((pair) => ({ ...pair, ...observed(answers.get(pair.caller)?.get(pair.callee)) }));
  return matrixResult(cells, `Each service's AuthorizationPolicy in ${ctx.config.mesh.namespace} must list exactly its callers' principals: run \`meshgw deploy\` to reapply them.`);
}

export function awsMatrixCheck(): Check<AwsMtlsContext> {
  return {
    id: 'mtls.matrix',
    title: 'admits exactly the callers the authorization table lists, for every caller identity against every service',
    // Five probe pods, each scheduled, injected and run to completion.
    timeoutMs: 10 * 60_000,
    run: inspect,
  };
}
