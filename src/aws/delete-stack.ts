import type { CloudFormationApi, StackDescription, StackEvent } from './cloudformation-api.js';
import type { PollTiming } from './polling.js';
import { firstFailure, StackEventStream, type FirstFailure } from './stack-events.js';
import { watchStack } from './stack-watch.js';

export type DeleteResult =
  | { type: 'deleted'; stackName: string; events: StackEvent[] }
  | { type: 'absent'; stackName: string }
  | { type: 'failed'; stackName: string; status: string; failure?: FirstFailure; statusReason?: string; events: StackEvent[] }
  | { type: 'detached'; stackName: string; reason: 'interrupted' | 'timeout'; status?: string };

export interface DeleteRequest {
  stackName: string;
  /** The stack as just described, when the caller already has it. */
  existing?: StackDescription;
  timing: PollTiming;
  signal: AbortSignal;
  observer: { phase(text: string): void; event(event: StackEvent): void };
}

/** Deletes the stack and streams its events until it is gone; DELETE_FAILED names the resource. */
export async function deleteStack(api: CloudFormationApi, req: DeleteRequest): Promise<DeleteResult> {
  const stack = req.existing ?? (await api.describeStack(req.stackName));
  if (!stack) return { type: 'absent', stackName: req.stackName };
  // Watch by stack id: by name a deleted stack stops answering, by id it answers DELETE_COMPLETE.
  const stream = await StackEventStream.start(api, stack.stackId);
  req.observer.phase(`deleting stack ${req.stackName}`);
  await api.deleteStack(req.stackName);
  const watched = await watchStack(api, stack.stackId, stream, { timing: req.timing, signal: req.signal, onEvent: (e) => req.observer.event(e) });
  if (watched.type === 'detached') return { type: 'detached', stackName: req.stackName, reason: watched.reason, status: watched.status };
  if (watched.status === 'DELETE_COMPLETE') return { type: 'deleted', stackName: req.stackName, events: watched.events };
  return {
    type: 'failed',
    stackName: req.stackName,
    status: watched.status,
    failure: firstFailure(watched.events, req.stackName),
    statusReason: watched.statusReason,
    events: watched.events,
  };
}
