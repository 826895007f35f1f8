import { MeshgwError } from '../errors.js';
import { prepareChangeSet } from './change-set.js';
import type { ChangeSetDescription, CloudFormationApi, StackDescription, StackEvent } from './cloudformation-api.js';
import { deleteStack } from './delete-stack.js';
import type { PollTiming } from './polling.js';
import { firstFailure, StackEventStream, type FirstFailure } from './stack-events.js';
import { isReviewOnly, isRolledBackCreate, isSuccess, isTerminal, needsIntervention } from './stack-states.js';
import { watchStack } from './stack-watch.js';
import type { RenderedTemplate } from './template.js';

/** Asks the user a yes/no question; throws when no one can answer (no TTY and no --yes). */
export type Confirm = (question: string) => Promise<boolean>;

/** What a deployment reports while it runs (the command turns these into reporter output). */
export interface DeployObserver {
  phase(text: string): void;
  changeSet(changeSet: ChangeSetDescription, type: 'CREATE' | 'UPDATE'): void;
  event(event: StackEvent): void;
  notice(text: string): void;
}

export interface DeployRequest {
  stackName: string;
  rendered: RenderedTemplate;
  dryRun: boolean;
  confirm: Confirm;
  timing: PollTiming;
  signal: AbortSignal;
  observer: DeployObserver;
}

/** The outcome of `meshgw up --target aws` (tagged like the CDK's deployment result). */
export type DeployResult =
  | { type: 'deployed'; stackName: string; operation: 'CREATE' | 'UPDATE'; status: string; outputs: Record<string, string>; events: StackEvent[] }
  | { type: 'no-changes'; stackName: string; status: string; outputs: Record<string, string> }
  | { type: 'failed'; stackName: string; operation: 'CREATE' | 'UPDATE' | 'DELETE'; status: string; failure?: FirstFailure; statusReason?: string; events: StackEvent[] }
  | { type: 'dry-run'; stackName: string; operation: 'CREATE' | 'UPDATE'; changeSet: ChangeSetDescription }
  | { type: 'declined'; stackName: string }
  /** Ctrl-C or the deadline: meshgw stopped watching; the deployment continues in AWS. */
  | { type: 'detached'; stackName: string; reason: 'interrupted' | 'timeout'; status?: string };

/**
 * Deploys the stack through a change set: validate, create the change set (CREATE or UPDATE),
 * show it, ask, execute, stream events until the stack settles.
 */
export async function deployStack(api: CloudFormationApi, req: DeployRequest): Promise<DeployResult> {
  const { stackName, observer } = req;
  observer.phase('validating the template');
  await validate(api, req);

  let existing = await api.describeStack(stackName);
  if (existing && isRolledBackCreate(existing.status)) {
    const recreated = await offerRecreate(api, req, existing);
    if (recreated) return recreated;
    existing = undefined;
  }
  if (existing) refuseBusy(existing);
  const operation = !existing || isReviewOnly(existing.status) ? 'CREATE' : 'UPDATE';

  observer.phase(`computing the change set (${operation})`);
  const changeSetName = `meshgw-${req.timing.now()}`;
  const prepared = await prepareChangeSet(
    api,
    { stackName, changeSetName, changeSetType: operation, templateBody: req.rendered.body, parameters: req.rendered.parameters },
    req.timing,
    req.signal,
  );
  if (prepared.type === 'no-changes') {
    return { type: 'no-changes', stackName, status: existing?.status ?? 'UNKNOWN', outputs: existing?.outputs ?? {} };
  }
  const { changeSet, stackId } = prepared;
  observer.changeSet(changeSet, operation);
  // A CREATE change set makes an empty stack (REVIEW_IN_PROGRESS); not executing it removes both.
  const discard = async () => {
    await api.deleteChangeSet(changeSet.id, stackName);
    if (operation === 'CREATE' && !existing) await api.deleteStack(stackName);
  };
  if (req.dryRun) {
    await discard();
    return { type: 'dry-run', stackName, operation, changeSet };
  }
  let approved = false;
  try {
    approved = await req.confirm(`Execute this change set on stack ${stackName}?`);
  } finally {
    // Declined, or no one could answer: leave no pending change set behind.
    if (!approved) await discard();
  }
  if (!approved) return { type: 'declined', stackName };

  const stream = operation === 'CREATE' && !existing ? StackEventStream.empty(api, stackId) : await StackEventStream.start(api, stackId);
  observer.phase(`executing the change set (${operation})`);
  await api.executeChangeSet(changeSet.id, stackName);
  const watched = await watchStack(api, stackId, stream, { timing: req.timing, signal: req.signal, onEvent: (e) => observer.event(e) });
  if (watched.type === 'detached') return { type: 'detached', stackName, reason: watched.reason, status: watched.status };
  if (isSuccess(watched.status, operation)) {
    return { type: 'deployed', stackName, operation, status: watched.status, outputs: watched.stack?.outputs ?? {}, events: watched.events };
  }
  return {
    type: 'failed',
    stackName,
    operation,
    status: watched.status,
    failure: firstFailure(watched.events, stackName),
    statusReason: watched.statusReason,
    events: watched.events,
  };
}

async function validate(api: CloudFormationApi, req: DeployRequest): Promise<void> {
  try {
    await api.validateTemplate(req.rendered.body);
  } catch (err) {
    const e = err as { name?: string; message?: string };
    if (e?.name !== 'ValidationError') throw err;
    throw new MeshgwError(
      'STACK_FAILED',
      `CloudFormation rejected the template for ${req.stackName}: ${e.message}`,
      'Nothing was changed. The template is templates/meshgw-stack.yaml plus what meshgw.yaml adds; `cfn-lint templates/meshgw-stack.rendered.yaml` (pip install cfn-lint) shows the same findings offline.',
      { cause: err },
    );
  }
}

/** A stack whose first create rolled back cannot be updated: explain, then delete it and carry on creating. */
async function offerRecreate(api: CloudFormationApi, req: DeployRequest, existing: StackDescription): Promise<DeployResult | undefined> {
  const history = await api.describeStackEvents(existing.stackId, 3);
  const cause = firstFailure([...history].reverse(), req.stackName);
  req.observer.notice(
    `Stack ${req.stackName} is ${existing.status}: its first creation failed` +
      (cause ? ` (${cause.logicalId} ${cause.resourceType}: ${cause.reason})` : '') +
      ' and was rolled back. Such a stack holds nothing and cannot be updated; it has to be deleted and created again.',
  );
  if (req.dryRun) {
    throw new MeshgwError('STACK_BAD_STATE', `stack ${req.stackName} is ${existing.status} and cannot be updated`, 'Run `meshgw up --target aws` without --dry-run to delete it and create it again, or `meshgw down --target aws`.');
  }
  if (!(await req.confirm(`Delete stack ${req.stackName} and create it again?`))) return { type: 'declined', stackName: req.stackName };
  const deleted = await deleteStack(api, { ...req, stackName: req.stackName, existing });
  if (deleted.type === 'deleted' || deleted.type === 'absent') return undefined;
  if (deleted.type === 'detached') return { type: 'detached', stackName: req.stackName, reason: deleted.reason, status: deleted.status };
  return { type: 'failed', stackName: req.stackName, operation: 'DELETE', status: deleted.status, failure: deleted.failure, statusReason: deleted.statusReason, events: deleted.events };
}

function refuseBusy(stack: StackDescription): void {
  if (!isTerminal(stack.status) && !isReviewOnly(stack.status)) {
    throw new MeshgwError(
      'STACK_BAD_STATE',
      `stack ${stack.stackName} is busy (${stack.status}); another operation is running`,
      'Wait for it to finish (`meshgw status --target aws` shows its progress), then run `meshgw up --target aws` again.',
    );
  }
  if (needsIntervention(stack.status)) {
    throw new MeshgwError(
      'STACK_BAD_STATE',
      `stack ${stack.stackName} is ${stack.status}${stack.statusReason ? ` (${stack.statusReason})` : ''} and cannot take a change set`,
      stack.status === 'DELETE_FAILED'
        ? 'Run `meshgw down --target aws` again once the resource named in `meshgw status --target aws` can be deleted.'
        : 'Continue the rollback in the CloudFormation console (or `aws cloudformation continue-update-rollback`), then run `meshgw up --target aws` again.',
    );
  }
}
