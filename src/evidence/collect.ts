/**
 * Gathers the evidence bundle's facts from a finished verify run: pure, so the HTML and the JSON
 * are built from the same object and a test can craft one. Each part a run lacks says why.
 */
import type { MeshgwConfig } from '../config/schema.js';
import type { CheckOutcome, ScenarioReport } from '../verify/checks.js';
import type { MatrixCell } from '../verify/mtls/authz-matrix.js';
import { configFingerprint } from './fingerprint.js';
import { EVIDENCE_SCHEMA, type EvidenceBundle, type LegitTrace, type Part, type RefusalRow, type ThrottlePhase, type Versions } from './types.js';

/** What the verify run hands over (the VerifyRun fields the bundle needs). */
export interface EvidenceRun {
  ok: boolean;
  target: 'local' | 'aws';
  scenarios: ScenarioReport[];
  warnings?: number;
  failOn?: string;
}

export interface EvidenceInputs {
  run: EvidenceRun;
  config: MeshgwConfig;
  configFile: string;
  startedAt: Date;
  endedAt: Date;
  versions: Omit<Versions, 'istio'>;
  legitTrace: Part<LegitTrace>;
}

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const numOrNull = (v: unknown): number | null => (typeof v === 'number' && Number.isFinite(v) ? v : null);

function scenario(run: EvidenceRun, name: string): ScenarioReport | undefined {
  return run.scenarios.find((s) => s.scenario === name);
}

/**
 * Local: meshgw's own sidecars stand in for Istio. aws: istiod's image tag as the mtls scenario read it
 * from the cluster, else the release `meshgw deploy` installs (aws.istioVersion).
 */
export function istioVersion(run: EvidenceRun, config: MeshgwConfig): Versions['istio'] {
  if (run.target === 'local') return { used: false, version: null, note: "not used: the local mesh is meshgw's own sidecars" };
  const running = scenario(run, 'mtls')?.checks.map((c) => (isRecord(c.data) ? c.data.istioVersion : undefined)).find((v): v is string => typeof v === 'string');
  if (running) return { used: true, version: running, note: "istiod's image in the cluster" };
  return { used: true, version: config.aws.istioVersion, note: 'aws.istioVersion, the release `meshgw deploy` installs (the cluster was not read in this run)' };
}

function throttlePart(run: EvidenceRun): EvidenceBundle['throttle'] {
  const report = scenario(run, 'throttle');
  if (!report) return { available: false, reason: 'the throttle scenario did not run' };
  const phases: ThrottlePhase[] = report.checks
    .filter((c) => isRecord(c.data) && Array.isArray(c.data.perSecond))
    .map((c) => ({ id: c.id, title: c.title, status: c.status, detail: c.detail, data: c.data ?? {} }));
  if (phases.length === 0) return { available: false, reason: 'no throttle phase recorded a per-second series (the scenario stopped before its load phases)' };
  return { available: true, phases };
}

function matrixPart(run: EvidenceRun): EvidenceBundle['authzMatrix'] {
  const report = scenario(run, 'mtls');
  if (!report) return { available: false, reason: 'the mtls scenario did not run' };
  const check = report.checks.find((c) => c.id === 'mtls.matrix');
  const data = check?.data;
  if (!check || !isRecord(data) || !Array.isArray(data.cells)) {
    return { available: false, reason: check ? `the matrix check recorded no cells (${check.status}: ${check.detail.split('\n')[0]})` : 'the mtls scenario has no matrix check' };
  }
  const cells = data.cells as MatrixCell[];
  return { available: true, callers: [...new Set(cells.map((c) => c.caller))], services: [...new Set(cells.map((c) => c.callee))], cells };
}

/** A refusal check's counter reading (mtls: data.counter with counterBefore/counterAfter). */
function refusalRow(report: ScenarioReport, c: CheckOutcome): RefusalRow | undefined {
  const d = c.data;
  if (!isRecord(d) || typeof d.counter !== 'string' || !('counterBefore' in d)) return undefined;
  const delta = numOrNull(d.delta) ?? numOrNull(d.counterDelta);
  return { scenario: report.scenario, check: c.id, title: c.title, status: c.status, target: typeof d.target === 'string' ? d.target : null, counter: d.counter, before: numOrNull(d.counterBefore), after: numOrNull(d.counterAfter), delta };
}

/** Pairs of counter readings a check kept as { before, after } or { before, during }, possibly per backend. */
function counterPairs(counters: unknown, prefix = ''): { name: string; before: Record<string, unknown>; after: Record<string, unknown> }[] {
  if (!isRecord(counters)) return [];
  const after = counters.after ?? counters.during;
  if (isRecord(counters.before) && isRecord(after)) return [{ name: prefix, before: counters.before, after }];
  return Object.entries(counters).flatMap(([k, v]) => counterPairs(v, prefix ? `${prefix}.${k}` : k));
}

function resilienceRows(report: ScenarioReport, c: CheckOutcome): RefusalRow[] {
  if (!isRecord(c.data)) return [];
  return counterPairs(c.data.counters).flatMap((pair) =>
    Object.keys(pair.after).map((counter) => {
      const before = numOrNull(pair.before[counter]);
      const after = numOrNull(pair.after[counter]);
      return { scenario: report.scenario, check: c.id, title: c.title, status: c.status, target: pair.name || null, counter, before, after, delta: before !== null && after !== null ? after - before : null };
    }),
  );
}

function refusalsPart(run: EvidenceRun): EvidenceBundle['refusals'] {
  const rows: RefusalRow[] = [];
  for (const report of run.scenarios) {
    for (const c of report.checks) {
      const row = refusalRow(report, c);
      if (row) rows.push(row);
      else if (report.scenario === 'resilience') rows.push(...resilienceRows(report, c));
    }
  }
  if (rows.length > 0) return { available: true, rows };
  const ran = run.scenarios.some((s) => s.scenario === 'mtls' || s.scenario === 'resilience');
  return { available: false, reason: ran ? 'the mtls and resilience checks recorded no counter readings' : 'neither the mtls nor the resilience scenario ran' };
}

export function collectEvidence(inputs: EvidenceInputs): EvidenceBundle {
  const { run } = inputs;
  return {
    schema: EVIDENCE_SCHEMA,
    target: run.target,
    startedAt: inputs.startedAt.toISOString(),
    endedAt: inputs.endedAt.toISOString(),
    verdict: { ok: run.ok, warnings: run.warnings ?? 0, failOn: run.failOn ?? 'fail' },
    versions: { ...inputs.versions, istio: istioVersion(run, inputs.config) },
    config: configFingerprint(inputs.config, inputs.configFile),
    throttle: throttlePart(run),
    authzMatrix: matrixPart(run),
    refusals: refusalsPart(run),
    legitTrace: inputs.legitTrace,
    scenarios: run.scenarios,
  };
}
