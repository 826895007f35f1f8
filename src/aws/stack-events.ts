import type { CloudFormationApi, StackEvent } from './cloudformation-api.js';

/** Pages of events read per poll: AWS returns up to 100 a page, far more than one poll brings. */
const PAGES_PER_POLL = 3;

/**
 * New stack events, oldest first, each once: the events already there when the operation began
 * are skipped by id and by time (the newest of them), so history never replays.
 */
export class StackEventStream {
  private readonly seen = new Set<string>();
  private newest: number | undefined;

  private constructor(
    private readonly api: CloudFormationApi,
    private readonly stackRef: string,
  ) {}

  /** Records the events present now as the baseline. */
  static async start(api: CloudFormationApi, stackRef: string): Promise<StackEventStream> {
    const stream = new StackEventStream(api, stackRef);
    const existing = await api.describeStackEvents(stackRef, 1);
    for (const e of existing) stream.remember(e);
    return stream;
  }

  /** A stream with no baseline: every event counts (a stack that did not exist before). */
  static empty(api: CloudFormationApi, stackRef: string): StackEventStream {
    return new StackEventStream(api, stackRef);
  }

  /** Reads from another reference (the stack id once known, which still answers after deletion). */
  retarget(stackRef: string): StackEventStream {
    const next = new StackEventStream(this.api, stackRef);
    for (const id of this.seen) next.seen.add(id);
    next.newest = this.newest;
    return next;
  }

  async poll(): Promise<StackEvent[]> {
    const page = await this.api.describeStackEvents(this.stackRef, PAGES_PER_POLL);
    const fresh: StackEvent[] = [];
    // AWS lists newest first; walking backwards yields oldest first and keeps the order of events
    // that share a timestamp.
    for (let i = page.length - 1; i >= 0; i--) {
      const e = page[i];
      if (this.seen.has(e.eventId)) continue;
      if (this.newest !== undefined && e.timestamp.getTime() < this.newest) continue;
      fresh.push(e);
    }
    for (const e of fresh) this.remember(e);
    return fresh;
  }

  private remember(e: StackEvent): void {
    this.seen.add(e.eventId);
    const t = e.timestamp.getTime();
    if (this.newest === undefined || t > this.newest) this.newest = t;
  }
}

/** The failure that caused the others, from events oldest first. */
export interface FirstFailure {
  logicalId: string;
  resourceType: string;
  status: string;
  reason: string;
}

// What CloudFormation writes on the resources it gives up on once another one failed.
const CASCADE = /Resource (creation|update|deletion) cancelled/i;

/**
 * The first resource that failed and why, skipping the cascade of "Resource creation cancelled"
 * that follows the real failure, and the stack's own summary events.
 */
export function firstFailure(events: StackEvent[], stackName: string): FirstFailure | undefined {
  const failed = events.filter((e) => e.status.endsWith('_FAILED'));
  const own = (e: StackEvent) => e.resourceType === 'AWS::CloudFormation::Stack' && e.logicalId === stackName;
  const pick = failed.find((e) => !own(e) && !CASCADE.test(e.reason ?? '')) ?? failed.find((e) => !own(e)) ?? failed[0];
  if (!pick) return undefined;
  return { logicalId: pick.logicalId, resourceType: pick.resourceType, status: pick.status, reason: pick.reason ?? '(no reason given)' };
}
