import type { CloudFormationApi, StackDescription, StackEvent } from './cloudformation-api.js';
import type { StackEventStream } from './stack-events.js';
import { isTerminal } from './stack-states.js';
import { pause, type PollTiming } from './polling.js';

export type WatchOutcome =
  | { type: 'finished'; status: string; statusReason?: string; stack?: StackDescription; events: StackEvent[] }
  /** Watching stopped (Ctrl-C or the deadline); the operation itself goes on in AWS. */
  | { type: 'detached'; reason: 'interrupted' | 'timeout'; status?: string; events: StackEvent[] };

export interface WatchOptions {
  timing: PollTiming;
  signal: AbortSignal;
  onEvent: (event: StackEvent) => void;
}

/**
 * Streams a stack's new events until it reaches a terminal status. A stack that no longer answers
 * (deleted, looked up by name) counts as DELETE_COMPLETE.
 */
export async function watchStack(api: CloudFormationApi, stackRef: string, stream: StackEventStream, opts: WatchOptions): Promise<WatchOutcome> {
  const { timing, signal } = opts;
  const deadline = timing.now() + timing.timeoutMs;
  const events: StackEvent[] = [];
  const drain = async () => {
    for (const e of await stream.poll()) {
      events.push(e);
      opts.onEvent(e);
    }
  };
  let status: string | undefined;
  for (let polls = 0; polls < timing.maxPolls; polls++) {
    if (signal.aborted) return { type: 'detached', reason: 'interrupted', status, events };
    await drain();
    const stack = await api.describeStack(stackRef);
    status = stack?.status ?? 'DELETE_COMPLETE';
    if (isTerminal(status)) {
      // Events can land after the status flips; one more read catches the last of them.
      await drain();
      return { type: 'finished', status, statusReason: stack?.statusReason, stack, events };
    }
    if (timing.now() >= deadline) break;
    await pause(timing.pollIntervalMs, signal);
  }
  return { type: 'detached', reason: 'timeout', status, events };
}
