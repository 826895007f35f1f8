/**
 * The authorization matrix on the local target: for every caller identity, a leaf minted from the
 * stack's own mesh CA (so only the identity can be the reason for a refusal), and one real mTLS
 * request to every sidecar's inbound port. The sidecar's answer and its own counters are the observation.
 */
import { readFile } from 'node:fs/promises';
import { serviceDnsName, spiffeId } from '../../config/topology.js';
import { probe, type ProbeOutcome } from '../../mesh/probe.js';
import { caFiles } from '../../pki/files.js';
import { issueLeaf } from '../../pki/issue.js';
import { readMeshCa } from '../../pki/store.js';
import type { Check, CheckResult } from '../checks.js';
import { expectedMatrix, matrixResult, type MatrixCell } from './authz-matrix.js';
import { counterDelta, fetchStats } from './local-admin.js';
import type { LocalMtlsContext } from './local-context.js';

const PROBE_TIMEOUT_MS = 5_000;

function observe(o: ProbeOutcome): Pick<MatrixCell, 'observed' | 'evidence'> {
  if (o.type === 'refused') return { observed: 'refused', evidence: `refused ${o.stage === 'connection' ? 'on connect' : `during the ${o.stage}`} (${o.error.split('\n')[0]})` };
  if (o.status === 403 && /RBAC_DENIED/.test(o.body)) return { observed: 'deny', evidence: '403 RBAC_DENIED' };
  // Anything else came from the app behind the sidecar: the sidecar let the caller through.
  return { observed: 'allow', evidence: `the app answered ${o.status}` };
}

async function inspect(ctx: LocalMtlsContext, now: Date): Promise<CheckResult> {
  const cfg = ctx.mesh.config;
  const ca = await readMeshCa(ctx.mesh.pkiDir);
  if (!ca) throw new Error(`the mesh CA is not readable under ${ctx.mesh.pkiDir}`);
  const caPem = await readFile(caFiles(ctx.mesh.pkiDir).certFile, 'utf8');
  const leaves = new Map<string, { cert: string; key: string }>();
  const cells: MatrixCell[] = [];
  for (const pair of expectedMatrix(cfg)) {
    const w = ctx.mesh.workloads.find((x) => x.name === pair.callee);
    if (!w?.inboundUrl || !w.adminUrl) {
      cells.push({ ...pair, observed: 'error', evidence: `${pair.callee} has no running sidecar` });
      continue;
    }
    let leaf = leaves.get(pair.caller);
    if (!leaf) {
      const issued = await issueLeaf(ca, { spiffeId: spiffeId(cfg, pair.caller), dnsName: serviceDnsName(cfg, pair.caller), lifetimeHours: 1, now });
      leaf = { cert: issued.certPem, key: issued.keyPem };
      leaves.set(pair.caller, leaf);
    }
    const before = await fetchStats(w.adminUrl);
    const outcome = await probe({ url: w.inboundUrl, path: '/healthz', ca: caPem, cert: leaf.cert, key: leaf.key, timeoutMs: PROBE_TIMEOUT_MS });
    const delta = counterDelta(before, await fetchStats(w.adminUrl));
    const seen = observe(outcome);
    const counter = seen.observed === 'allow' ? `rbac.allowed.peer.${spiffeId(cfg, pair.caller)}` : 'rbac.denied';
    cells.push({ ...pair, ...seen, ...(seen.observed === 'allow' || seen.observed === 'deny' ? { counted: (delta[counter] ?? 0) >= 1 } : {}) });
  }
  return matrixResult(cells, "Each sidecar's allowedCallers must be exactly the authorization table's callers for it: run `meshgw down` and `meshgw up` so the sidecars get it from meshgw.yaml.");
}

export function localMatrixCheck(now: () => Date): Check<LocalMtlsContext> {
  return {
    id: 'mtls.matrix',
    title: 'admits exactly the callers the authorization table lists, for every caller identity against every service',
    timeoutMs: 60_000,
    run: (ctx) => inspect(ctx, now()),
  };
}
