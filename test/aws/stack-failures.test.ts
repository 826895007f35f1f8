// Failure paths moto cannot produce (resource failures, rollbacks, DELETE_FAILED, drift): driven by
// FakeCloudFormation, a scripted implementation of our CloudFormationApi fed the event sequences
// AWS emits. The happy paths run against moto's real server in moto.test.ts.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { PassThrough } from 'node:stream';
import { afterEach, beforeEach, describe, it } from 'node:test';
import type { AwsCommandDeps } from '../../src/aws/command-deps.js';
import { runDownAws, runStatusAws, runUpAws } from '../../src/aws/commands.js';
import { createConfirm } from '../../src/aws/confirm.js';
import { outputsFile, writeStackOutputs } from '../../src/aws/outputs.js';
import { MeshgwError } from '../../src/errors.js';
import { failedCreateEvents, failedDeleteEvents, FakeCloudFormation } from './fake-cloudformation.js';
import { fastTiming, scratchContext, type Scratch } from './helpers.js';

const STACK = 'meshgw-fake';
const STACK_TYPE = 'AWS::CloudFormation::Stack';

function deps(cfn: FakeCloudFormation, over: Partial<AwsCommandDeps> = {}): AwsCommandDeps {
  return {
    region: 'us-east-1',
    cfn,
    identity: async () => ({ account: '123456789012', arn: 'arn:aws:iam::123456789012:user/tester' }),
    confirm: async () => true,
    renderTemplate: async () => ({ template: { Parameters: {}, Resources: {}, Outputs: {} }, body: 'Resources: {}\n', parameters: [] }),
    removeDeployedObjects: async () => ({ type: 'skipped', reason: 'no cluster in tests' }),
    timing: fastTiming(),
    ...over,
  };
}

async function refusal(run: Promise<number>): Promise<MeshgwError> {
  try {
    await run;
  } catch (err) {
    assert.ok(err instanceof MeshgwError, `a MeshgwError, got ${String(err)}`);
    return err;
  }
  assert.fail('the command succeeded');
}

const successfulCreate = [
  { status: 'CREATE_IN_PROGRESS', events: [[STACK, STACK_TYPE, 'CREATE_IN_PROGRESS', 'User Initiated'], ['Vpc', 'AWS::EC2::VPC', 'CREATE_IN_PROGRESS']] as [string, string, string, string?][] },
  { status: 'CREATE_COMPLETE', events: [['Vpc', 'AWS::EC2::VPC', 'CREATE_COMPLETE'], [STACK, STACK_TYPE, 'CREATE_COMPLETE']] as [string, string, string, string?][] },
];

describe('meshgw up/down --target aws when CloudFormation fails (scripted fake)', () => {
  let s: Scratch;
  let cfn: FakeCloudFormation;
  beforeEach(async () => {
    s = await scratchContext(STACK);
    cfn = new FakeCloudFormation(STACK);
  });
  afterEach(() => s.cleanup());

  it('refuses a template CloudFormation rejects, quoting the ValidationError, and creates no change set', async () => {
    cfn.validationError = 'Template format error: Unresolved resource dependencies [NoSuchResource] in the Resources block of the template';
    const err = await refusal(runUpAws(s.ctx, { dryRun: false }, deps(cfn)));
    assert.equal(err.code, 'STACK_FAILED');
    assert.match(err.message, /^CloudFormation rejected the template for meshgw-fake: Template format error: Unresolved resource dependencies \[NoSuchResource\]/);
    assert.match(err.hint ?? '', /Nothing was changed/);
    assert.ok(!cfn.calls.some((c) => c.startsWith('createChangeSet')));
    assert.equal(s.reporter.lines.at(-1), '✖ validating the template', 'the open step is closed as failed');
  });

  it('names the EKS cluster as the first failure, not the resources cancelled after it', async () => {
    cfn.executeScript = failedCreateEvents(STACK);
    const err = await refusal(runUpAws(s.ctx, { dryRun: false }, deps(cfn)));
    assert.equal(err.code, 'STACK_FAILED');
    assert.match(err.message, /^stack meshgw-fake ended ROLLBACK_COMPLETE: EKSCluster \(AWS::EKS::Cluster\) CREATE_FAILED: Resource handler returned message: "unsupported Kubernetes version 1\.99/);
    assert.doesNotMatch(err.message, /cancelled|RestApi/);
    assert.match(err.hint ?? '', /delete it and create it again/);
    // Every event streamed once, oldest first.
    const text = s.reporter.text();
    assert.equal(text.match(/CREATE_FAILED +EKSCluster/g)?.length, 1);
    assert.ok(text.indexOf('CREATE_COMPLETE              Vpc') < text.indexOf('CREATE_FAILED                EKSCluster'));
    assert.ok(text.indexOf('CREATE_FAILED                EKSCluster') < text.indexOf('ROLLBACK_COMPLETE            meshgw-fake'));
  });

  it('explains a stack left in ROLLBACK_COMPLETE, deletes it on yes and creates it again', async () => {
    cfn.setStack('ROLLBACK_COMPLETE');
    for (const step of failedCreateEvents(STACK)) cfn.addEvents(step.events);
    cfn.deleteScript = [
      { status: 'DELETE_IN_PROGRESS', events: [[STACK, STACK_TYPE, 'DELETE_IN_PROGRESS', 'User Initiated']] },
      { status: 'GONE', events: [[STACK, STACK_TYPE, 'DELETE_COMPLETE']] },
    ];
    cfn.executeScript = successfulCreate;
    cfn.outputsAfter = { RestApiId: 'abc123', StageName: 'prod' };
    const questions: string[] = [];
    const code = await runUpAws(s.ctx, { dryRun: false }, deps(cfn, { confirm: async (q) => (questions.push(q), true) }));
    assert.equal(code, 0);
    assert.match(s.reporter.text(), /warning: Stack meshgw-fake is ROLLBACK_COMPLETE: its first creation failed \(EKSCluster AWS::EKS::Cluster: Resource handler returned message: "unsupported Kubernetes version 1\.99.*cannot be updated; it has to be deleted and created again/);
    assert.deepEqual(questions, ['Delete stack meshgw-fake and create it again?', 'Execute this change set on stack meshgw-fake?']);
    assert.ok(cfn.calls.indexOf('deleteStack') < cfn.calls.indexOf('createChangeSet:CREATE'));
    const saved = JSON.parse(await readFile(outputsFile(s.ctx.loaded.stateDir, STACK), 'utf8'));
    assert.deepEqual(saved, { RestApiId: 'abc123', StageName: 'prod' });
  });

  it('leaves a ROLLBACK_COMPLETE stack alone when the user declines', async () => {
    cfn.setStack('ROLLBACK_COMPLETE');
    const code = await runUpAws(s.ctx, { dryRun: false }, deps(cfn, { confirm: async () => false }));
    assert.equal(code, 0);
    assert.deepEqual(s.reporter.results.at(-1), { type: 'declined', stackName: STACK });
    assert.ok(!cfn.calls.includes('deleteStack'));
  });

  it('refuses to execute without --yes when there is no terminal, and deletes the change set', async () => {
    const confirm = createConfirm({ yes: false, input: new PassThrough(), output: new PassThrough() });
    const err = await refusal(runUpAws(s.ctx, { dryRun: false }, deps(cfn, { confirm })));
    assert.equal(err.code, 'USAGE');
    assert.match(err.message, /"Execute this change set on stack meshgw-fake\?" needs an answer, and there is no terminal to ask on/);
    assert.equal(err.hint, 'Pass --yes to proceed without asking.');
    assert.ok(cfn.calls.includes('deleteChangeSet'));
    assert.ok(cfn.calls.includes('deleteStack'), 'the empty REVIEW_IN_PROGRESS stack is removed too');
    assert.ok(!cfn.calls.includes('executeChangeSet'));
  });

  it('asks on a terminal and executes on "y", or changes nothing on "n"', async () => {
    for (const [answer, executed] of [['y\n', true], ['n\n', false]] as const) {
      const fake = new FakeCloudFormation(STACK);
      fake.executeScript = successfulCreate;
      const input = Object.assign(new PassThrough(), { isTTY: true });
      const output = new PassThrough();
      output.once('data', () => input.write(answer));
      await runUpAws(s.ctx, { dryRun: false }, deps(fake, { confirm: createConfirm({ yes: false, input, output }) }));
      assert.equal(fake.calls.includes('executeChangeSet'), executed, `answer ${answer.trim()}`);
    }
  });

  it('takes the end of the input at the prompt as a no', async () => {
    cfn.executeScript = successfulCreate;
    const input = Object.assign(new PassThrough(), { isTTY: true });
    const output = new PassThrough();
    output.once('data', () => input.end());
    assert.equal(await runUpAws(s.ctx, { dryRun: false }, deps(cfn, { confirm: createConfirm({ yes: false, input, output }) })), 0);
    assert.deepEqual(s.reporter.results.at(-1), { type: 'declined', stackName: STACK });
    assert.ok(!cfn.calls.includes('executeChangeSet'));
  });

  it('treats "No updates are to be performed" as success, deleting the empty change set', async () => {
    cfn.setStack('UPDATE_COMPLETE', { RestApiId: 'abc123' });
    cfn.changeSetStatus = { status: 'FAILED', reason: 'No updates are to be performed.', changes: [] };
    assert.equal(await runUpAws(s.ctx, { dryRun: false }, deps(cfn)), 0);
    assert.equal((s.reporter.results.at(-1) as { type: string }).type, 'no-changes');
    assert.ok(cfn.calls.includes('deleteChangeSet'));
    assert.ok(!cfn.calls.includes('executeChangeSet'));
  });

  it('reports a change set CloudFormation cannot compute, with its reason', async () => {
    cfn.changeSetStatus = { status: 'FAILED', reason: 'Parameters: [NodeImageId] must have values', changes: [] };
    const err = await refusal(runUpAws(s.ctx, { dryRun: false }, deps(cfn)));
    assert.match(err.message, /could not create the change set for meshgw-fake: Parameters: \[NodeImageId\] must have values/);
  });

  it('prints a dry run change set with its replacements and executes nothing', async () => {
    cfn.setStack('UPDATE_COMPLETE');
    cfn.changeSetStatus = {
      status: 'CREATE_COMPLETE',
      changes: [
        { action: 'Add', logicalId: 'UsagePlanGold', resourceType: 'AWS::ApiGateway::UsagePlan' },
        { action: 'Modify', logicalId: 'NodeLaunchTemplate', resourceType: 'AWS::EC2::LaunchTemplate', replacement: 'True' },
        { action: 'Remove', logicalId: 'ApiKeyOld', resourceType: 'AWS::ApiGateway::ApiKey' },
      ],
    };
    assert.equal(await runUpAws(s.ctx, { dryRun: true }, deps(cfn)), 0);
    const text = s.reporter.text();
    assert.match(text, /Change set \(UPDATE\), 3 resource changes:/);
    assert.match(text, /Modify +NodeLaunchTemplate +AWS::EC2::LaunchTemplate +replacement: True/);
    assert.match(text, /Remove +ApiKeyOld/);
    assert.ok(!cfn.calls.includes('deleteStack'), 'an existing stack is never deleted by a dry run');
    assert.ok(!cfn.calls.includes('executeChangeSet'));
    assert.ok(cfn.calls.includes('deleteChangeSet'));
  });

  it('refuses to start while another operation runs on the stack', async () => {
    cfn.setStack('UPDATE_IN_PROGRESS');
    const err = await refusal(runUpAws(s.ctx, { dryRun: false }, deps(cfn)));
    assert.equal(err.code, 'STACK_BAD_STATE');
    assert.match(err.message, /stack meshgw-fake is busy \(UPDATE_IN_PROGRESS\)/);
  });

  it('stops watching on Ctrl-C without cancelling, and says how to follow the deployment', async () => {
    cfn.executeScript = successfulCreate;
    const execute = cfn.executeChangeSet.bind(cfn);
    cfn.executeChangeSet = async () => {
      await execute();
      s.abort.abort();
    };
    const err = await refusal(runUpAws(s.ctx, { dryRun: false }, deps(cfn)));
    assert.equal(err.code, 'ABORTED');
    assert.match(err.message, /^interrupted: stopped watching stack meshgw-fake/);
    assert.match(err.hint ?? '', /goes on in AWS; `meshgw status --target aws`/);
    assert.ok(!cfn.calls.includes('deleteStack'));
  });

  it('names the first failure of an update that rolled back, and says the stack kept its previous state', async () => {
    cfn.setStack('UPDATE_COMPLETE');
    cfn.executeScript = [
      {
        status: 'UPDATE_ROLLBACK_IN_PROGRESS',
        events: [
          [STACK, STACK_TYPE, 'UPDATE_IN_PROGRESS', 'User Initiated'],
          ['UsagePlanGold', 'AWS::ApiGateway::UsagePlan', 'CREATE_IN_PROGRESS'],
          ['UsagePlanGold', 'AWS::ApiGateway::UsagePlan', 'CREATE_FAILED', 'Resource handler returned message: "Invalid quota period: HOUR" (HandlerErrorCode: InvalidRequest)'],
          ['ApiKeyPartner', 'AWS::ApiGateway::ApiKey', 'CREATE_FAILED', 'Resource creation cancelled'],
          [STACK, STACK_TYPE, 'UPDATE_ROLLBACK_IN_PROGRESS', 'The following resource(s) failed to create: [ApiKeyPartner, UsagePlanGold].'],
        ],
      },
      { status: 'UPDATE_ROLLBACK_COMPLETE', events: [[STACK, STACK_TYPE, 'UPDATE_ROLLBACK_COMPLETE']] },
    ];
    const err = await refusal(runUpAws(s.ctx, { dryRun: false }, deps(cfn)));
    assert.equal(err.message, 'stack meshgw-fake ended UPDATE_ROLLBACK_COMPLETE: UsagePlanGold (AWS::ApiGateway::UsagePlan) CREATE_FAILED: Resource handler returned message: "Invalid quota period: HOUR" (HandlerErrorCode: InvalidRequest)');
    assert.match(err.hint ?? '', /rolled back to its previous state/);
  });

  it('gives up watching after its poll budget, leaving the deployment running', async () => {
    cfn.executeScript = [{ status: 'CREATE_IN_PROGRESS', events: [[STACK, STACK_TYPE, 'CREATE_IN_PROGRESS', 'User Initiated']] }];
    const err = await refusal(runUpAws(s.ctx, { dryRun: false }, deps(cfn, { timing: fastTiming(3) })));
    assert.equal(err.code, 'ABORTED');
    assert.match(err.message, /^timed out waiting: stopped watching stack meshgw-fake \(last seen CREATE_IN_PROGRESS\)/);
    assert.equal(cfn.calls.filter((c) => c === 'describeStack').length, 1 + 3, 'one look before, three polls');
  });

  it('names the resource that blocks deletion when down ends DELETE_FAILED, and keeps the outputs', async () => {
    cfn.setStack('CREATE_COMPLETE');
    cfn.deleteScript = failedDeleteEvents(STACK);
    await writeStackOutputs(s.ctx.loaded.stateDir, STACK, { RestApiId: 'abc123' });
    const order: string[] = [];
    const err = await refusal(
      runDownAws(s.ctx, deps(cfn, { removeDeployedObjects: async () => (order.push(`cleanup@${cfn.calls.length}`), { type: 'removed', objects: 3 }) })),
    );
    assert.equal(err.code, 'STACK_FAILED');
    assert.match(err.message, /^stack meshgw-fake ended DELETE_FAILED: Vpc \(AWS::EC2::VPC\) DELETE_FAILED: .*The vpc 'vpc-0abc' has dependencies and cannot be deleted/);
    assert.match(err.hint ?? '', /load balancer/);
    assert.ok(Number(order[0].split('@')[1]) <= cfn.calls.indexOf('deleteStack'), 'cluster objects go before the stack');
    assert.ok(existsSync(outputsFile(s.ctx.loaded.stateDir, STACK)));
  });

  it('reports drift in the stable JSON shape of status --output json', async () => {
    cfn.setStack('UPDATE_COMPLETE', { RestApiId: 'abc123' });
    cfn.addEvents([[STACK, STACK_TYPE, 'UPDATE_COMPLETE']]);
    cfn.drifts = [
      { logicalId: 'NodeSecurityGroup', resourceType: 'AWS::EC2::SecurityGroup', status: 'MODIFIED' },
      { logicalId: 'Vpc', resourceType: 'AWS::EC2::VPC', status: 'IN_SYNC' },
    ];
    assert.equal(await runStatusAws(s.ctx, { drift: true }, deps(cfn)), 0);
    const report = JSON.parse(JSON.stringify(s.reporter.results.at(-1))) as Record<string, unknown>;
    assert.deepEqual(Object.keys(report).sort(), ['drift', 'events', 'exists', 'lastUpdated', 'outputs', 'region', 'stackName', 'status', 'statusReason'].sort());
    assert.deepEqual(report.drift, { status: 'DRIFTED', drifted: [{ logicalId: 'NodeSecurityGroup', resourceType: 'AWS::EC2::SecurityGroup', status: 'MODIFIED' }] });
    assert.match(s.reporter.text(), /Drift: DRIFTED\n +MODIFIED +NodeSecurityGroup/);
  });
});
