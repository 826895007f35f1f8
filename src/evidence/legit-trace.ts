/**
 * The legit flow's trace for the bundle: the order that `verify mtls`'s flow placed (its request id
 * is in the flow check's data), else the slowest recent POST /orders. Reading it is passed in, so
 * the same code serves the local logs and X-Ray; a trace that cannot be read is said, not thrown.
 */
import { summarizeTrace } from '../trace/span-tree.js';
import { DEFAULT_SLOWEST } from '../trace/options.js';
import type { TraceSelector, TraceView } from '../trace/types.js';
import type { EvidenceRun } from './collect.js';
import type { LegitTrace, Part } from './types.js';

const ORDER_STEP = 'POST /orders';

/** The request id of the flow's order, from the mtls flow check (or any check that kept flow steps). */
export function flowOrderRequestId(run: Pick<EvidenceRun, 'scenarios'>): string | undefined {
  for (const report of run.scenarios) {
    for (const c of report.checks) {
      const steps = (c.data as { steps?: unknown } | undefined)?.steps;
      if (!Array.isArray(steps)) continue;
      const order = steps.find((s: { step?: unknown; requestId?: unknown }) => s?.step === ORDER_STEP && typeof s.requestId === 'string') as { requestId: string } | undefined;
      if (order) return order.requestId;
    }
  }
  return undefined;
}

export type ReadTrace = (selector: TraceSelector) => Promise<TraceView>;

export async function findLegitTrace(run: Pick<EvidenceRun, 'scenarios'>, read: ReadTrace): Promise<Part<LegitTrace>> {
  const id = flowOrderRequestId(run);
  const selector: TraceSelector = id ? { type: 'request', id } : DEFAULT_SLOWEST;
  const chosenBy = id ? `the mtls flow's ${ORDER_STEP} (request ${id})` : `no flow order was recorded in this run: the slowest recent ${ORDER_STEP}`;
  try {
    const trace = await read(selector);
    return { available: true, chosenBy, trace, summary: summarizeTrace(trace) };
  } catch (err) {
    const e = err as { message?: string; hint?: string };
    return { available: false, reason: `${chosenBy} could not be traced: ${e.message ?? String(err)}${e.hint ? ` (${e.hint})` : ''}` };
  }
}
