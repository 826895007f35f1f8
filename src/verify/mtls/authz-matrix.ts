/**
 * The whole authorization matrix, whichever the target: every caller identity (the gateway, each
 * service, and an outsider with a valid mesh certificate for a service account nobody declares)
 * against every service, expected from the authorization table and observed on the wire.
 */
import { authorizationTable, GATEWAY_WORKLOAD, serviceNames } from '../../config/topology.js';
import type { MeshgwConfig } from '../../config/schema.js';
import type { CheckResult } from '../checks.js';
import { renderTable } from '../render.js';

/** A service account no meshgw.yaml declares: its certificate is valid, its identity is nobody's caller. */
export const OUTSIDER_WORKLOAD = 'meshgw-verify-outsider';

export type Decision = 'allow' | 'deny';

export interface MatrixCell {
  caller: string;
  callee: string;
  expected: Decision;
  /** What the callee's sidecar did: allowed (the app answered), denied (403 RBAC_DENIED), or neither. */
  observed: Decision | 'refused' | 'error';
  /** What came back, in a few words ("answered 200", "403 RBAC_DENIED", "refused during the handshake"). */
  evidence: string;
  /** Whether the callee's own counter for that decision moved (undefined where the target cannot tell). */
  counted?: boolean;
}

export function matrixCallers(cfg: MeshgwConfig): string[] {
  return [GATEWAY_WORKLOAD, ...serviceNames(cfg), OUTSIDER_WORKLOAD];
}

/** Every (caller, callee) pair with what the authorization table says. */
export function expectedMatrix(cfg: MeshgwConfig): { caller: string; callee: string; expected: Decision }[] {
  const table = authorizationTable(cfg);
  return matrixCallers(cfg).flatMap((caller) => serviceNames(cfg).map((callee) => ({ caller, callee, expected: (table[callee].includes(caller) ? 'allow' : 'deny') as Decision })));
}

function cellText(c: MatrixCell): string {
  if (c.observed === c.expected) return `${c.observed} ✔${c.counted === false ? ' (not counted)' : ''}`;
  return `${c.observed} ✖ (expected ${c.expected})`;
}

/** The matrix as a table: one row per caller, one column per service. */
export function renderMatrix(cells: MatrixCell[]): string {
  const callers = [...new Set(cells.map((c) => c.caller))];
  const callees = [...new Set(cells.map((c) => c.callee))];
  const rows = callers.map((caller) => [caller, ...callees.map((callee) => {
    const cell = cells.find((c) => c.caller === caller && c.callee === callee);
    return cell ? cellText(cell) : '';
  })]);
  return renderTable(['caller \\ callee', ...callees], rows);
}

/** The check's verdict: every cell as expected (and counted where the target counts). */
export function matrixResult(cells: MatrixCell[], hint: string): CheckResult {
  const wrong = cells.filter((c) => c.observed !== c.expected);
  const uncounted = cells.filter((c) => c.observed === c.expected && c.counted === false);
  const allowed = cells.filter((c) => c.observed === 'allow').length;
  const table = renderMatrix(cells);
  const data = { cells, callers: [...new Set(cells.map((c) => c.caller))], services: [...new Set(cells.map((c) => c.callee))] };
  const head = `${cells.length} pairs: ${allowed} allowed, ${cells.length - allowed} not`;
  if (wrong.length > 0) {
    const list = wrong.map((c) => `${c.caller}→${c.callee} expected ${c.expected}, saw ${c.observed} (${c.evidence})`).join('; ');
    return { ok: false, detail: `${head}; ${wrong.length} differ from the authorization table: ${list}\n${table}`, hint, data };
  }
  if (uncounted.length > 0) {
    return { ok: false, detail: `${head}, as expected, but the callee did not count ${uncounted.map((c) => `${c.caller}→${c.callee}`).join(', ')}\n${table}`, hint: 'The decision was right but the sidecar counters did not move: the sidecar counts it under another name.', data };
  }
  return { ok: true, detail: `${head}, each as the authorization table says\n${table}`, data };
}
