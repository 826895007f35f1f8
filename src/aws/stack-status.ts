import { MeshgwError } from '../errors.js';
import type { CloudFormationApi, ResourceDrift, StackEvent } from './cloudformation-api.js';
import { pause, type PollTiming } from './polling.js';

/** `meshgw status --target aws` as data; this shape is the --output json contract. */
export interface StackStatusReport {
  stackName: string;
  region: string;
  exists: boolean;
  /** null when the stack does not exist (every key is always present, for scripts). */
  status: string | null;
  statusReason: string | null;
  lastUpdated: string | null;
  outputs: Record<string, string>;
  /** The last events, oldest first. */
  events: Array<{ time: string; logicalId: string; resourceType: string; status: string; reason?: string }>;
  /** Present with --drift only. */
  drift?: { status: string; drifted: ResourceDrift[] };
}

export interface StatusRequest {
  stackName: string;
  region: string;
  eventCount: number;
  drift: boolean;
  timing: PollTiming;
  signal: AbortSignal;
}

export async function readStackStatus(api: CloudFormationApi, req: StatusRequest): Promise<StackStatusReport> {
  const stack = await api.describeStack(req.stackName);
  if (!stack) return { stackName: req.stackName, region: req.region, exists: false, status: null, statusReason: null, lastUpdated: null, outputs: {}, events: [] };
  const events = (await api.describeStackEvents(stack.stackId, 1)).slice(0, req.eventCount).reverse().map(eventRow);
  const report: StackStatusReport = {
    stackName: req.stackName,
    region: req.region,
    exists: true,
    status: stack.status,
    statusReason: stack.statusReason ?? null,
    lastUpdated: stack.lastUpdated?.toISOString() ?? null,
    outputs: stack.outputs,
    events,
  };
  if (req.drift) report.drift = await detectDrift(api, req);
  return report;
}

function eventRow(e: StackEvent): StackStatusReport['events'][number] {
  return { time: e.timestamp.toISOString(), logicalId: e.logicalId, resourceType: e.resourceType, status: e.status, ...(e.reason ? { reason: e.reason } : {}) };
}

/** DetectStackDrift, then wait for it; resources whose status is not IN_SYNC are listed. */
async function detectDrift(api: CloudFormationApi, req: StatusRequest): Promise<{ status: string; drifted: ResourceDrift[] }> {
  const id = await api.detectStackDrift(req.stackName);
  const deadline = req.timing.now() + req.timing.timeoutMs;
  for (let polls = 0; polls < req.timing.maxPolls; polls++) {
    const d = await api.describeDriftDetection(id);
    if (d.status === 'DETECTION_COMPLETE' || d.status === 'DETECTION_FAILED') {
      const drifted = (await api.describeResourceDrifts(req.stackName)).filter((r) => r.status !== 'IN_SYNC');
      // DETECTION_FAILED still reports what it could check (some types do not support drift).
      return { status: d.driftStatus ?? d.status, drifted };
    }
    if (req.signal.aborted || req.timing.now() >= deadline) break;
    await pause(req.timing.pollIntervalMs, req.signal);
  }
  throw new MeshgwError('ABORTED', `stopped waiting for drift detection on ${req.stackName}`, 'Run `meshgw status --target aws --drift` again.');
}
