import { MeshgwError } from '../errors.js';
import type { ChangeSetDescription, CloudFormationApi, CreateChangeSetInput } from './cloudformation-api.js';
import { pause, type PollTiming } from './polling.js';

export type ChangeSetOutcome =
  | { type: 'ready'; changeSet: ChangeSetDescription; stackId: string }
  | { type: 'no-changes'; stackId: string };

// CloudFormation refuses an empty change set with one of these reasons (the second comes from
// UpdateStack-era wording still seen on some paths); neither is a failure for meshgw.
const NO_CHANGES = /didn't contain changes|No updates are to be performed/i;

/** Creates a change set and waits for CloudFormation to compute it. An empty one is deleted. */
export async function prepareChangeSet(api: CloudFormationApi, input: CreateChangeSetInput, timing: PollTiming, signal: AbortSignal): Promise<ChangeSetOutcome> {
  const created = await api.createChangeSet(input);
  const deadline = timing.now() + timing.timeoutMs;
  for (let polls = 0; polls < timing.maxPolls; polls++) {
    const cs = await api.describeChangeSet(created.id, input.stackName);
    if (cs.status === 'CREATE_COMPLETE') return { type: 'ready', changeSet: cs, stackId: created.stackId };
    if (cs.status === 'FAILED') {
      if (NO_CHANGES.test(cs.statusReason ?? '')) {
        await api.deleteChangeSet(created.id, input.stackName);
        return { type: 'no-changes', stackId: created.stackId };
      }
      throw new MeshgwError(
        'STACK_FAILED',
        `CloudFormation could not create the change set for ${input.stackName}: ${cs.statusReason ?? 'no reason given'}`,
        'Nothing was changed. Fix the cause above (often a template or parameter problem) and run `meshgw up --target aws` again.',
      );
    }
    if (signal.aborted || timing.now() >= deadline) break;
    await pause(timing.pollIntervalMs, signal);
  }
  throw new MeshgwError(
    'ABORTED',
    `stopped waiting for change set ${created.id} of ${input.stackName}`,
    'Nothing was executed. Run `meshgw up --target aws` again.',
  );
}
