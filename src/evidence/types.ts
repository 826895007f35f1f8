/**
 * The evidence bundle's facts, as evidence.json holds them and report.html shows them. This shape
 * is what reviewers and CI read: keep it stable, add fields rather than rename them.
 */
import type { ScenarioReport } from '../verify/checks.js';
import type { MatrixCell } from '../verify/mtls/authz-matrix.js';
import type { TraceSummary } from '../trace/span-tree.js';
import type { TraceView } from '../trace/types.js';

export const EVIDENCE_SCHEMA = 'meshgw.evidence/v1';

/** A part of the bundle that a run may lack (a scenario not run, logs gone): then it says why, in place. */
export type Part<T> = ({ available: true } & T) | { available: false; reason: string };

export interface ConfigFingerprint {
  file: string;
  algorithm: 'sha256';
  /** Lower-case hex. */
  value: string;
  /** What was hashed, in words (see fingerprint.ts). */
  canonical: string;
}

export interface Versions {
  meshgw: string;
  node: string;
  /** Local: not used (the local mesh is meshgw's own sidecars); aws: the release deploy installs. */
  istio: { used: boolean; version: string | null; note: string };
}

export interface ThrottlePhase {
  id: string;
  title: string;
  status: string;
  detail: string;
  /** The check's own figures (offered, 2xx, 429, model prediction, per-second series, limit...). */
  data: Record<string, unknown>;
}

export interface RefusalRow {
  scenario: string;
  check: string;
  title: string;
  status: string;
  /** The workload whose counter was read. */
  target: string | null;
  counter: string;
  before: number | null;
  after: number | null;
  delta: number | null;
}

export interface LegitTrace {
  /** How the request was chosen: the mtls flow's order, or the slowest recent order. */
  chosenBy: string;
  trace: TraceView;
  summary: TraceSummary;
}

export interface EvidenceBundle {
  schema: typeof EVIDENCE_SCHEMA;
  target: 'local' | 'aws';
  startedAt: string;
  endedAt: string;
  verdict: { ok: boolean; warnings: number; failOn: string };
  versions: Versions;
  config: ConfigFingerprint;
  throttle: Part<{ phases: ThrottlePhase[] }>;
  authzMatrix: Part<{ callers: string[]; services: string[]; cells: MatrixCell[] }>;
  refusals: Part<{ rows: RefusalRow[] }>;
  legitTrace: Part<LegitTrace>;
  /** Every scenario with every check: id, title, status, detail, hint and data. */
  scenarios: ScenarioReport[];
}
