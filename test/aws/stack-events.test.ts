import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { firstFailure, StackEventStream } from '../../src/aws/stack-events.js';
import { failedCreateEvents, failedDeleteEvents, FakeCloudFormation } from './fake-cloudformation.js';

describe('stack events', () => {
  it('streams only events newer than the baseline, oldest first, each once', async () => {
    const cfn = new FakeCloudFormation('s');
    cfn.addEvents([['s', 'AWS::CloudFormation::Stack', 'CREATE_COMPLETE']]);
    const stream = await StackEventStream.start(cfn, 's');
    assert.deepEqual(await stream.poll(), []);
    cfn.addEvents([['s', 'AWS::CloudFormation::Stack', 'UPDATE_IN_PROGRESS'], ['Vpc', 'AWS::EC2::VPC', 'UPDATE_COMPLETE']]);
    assert.deepEqual((await stream.poll()).map((e) => `${e.logicalId} ${e.status}`), ['s UPDATE_IN_PROGRESS', 'Vpc UPDATE_COMPLETE']);
    cfn.addEvents([['s', 'AWS::CloudFormation::Stack', 'UPDATE_COMPLETE']]);
    assert.deepEqual((await stream.poll()).map((e) => e.status), ['UPDATE_COMPLETE']);
    assert.deepEqual(await stream.poll(), []);
  });

  it('picks the first real failure of a rolled-back create over the cancellations', () => {
    const cfn = new FakeCloudFormation('meshgw');
    for (const step of failedCreateEvents('meshgw')) cfn.addEvents(step.events);
    const f = firstFailure(cfn.events, 'meshgw');
    assert.equal(f?.logicalId, 'EKSCluster');
    assert.equal(f?.status, 'CREATE_FAILED');
    assert.match(f?.reason ?? '', /unsupported Kubernetes version/);
  });

  it('skips a cancellation listed before the real failure (events in the same second come in any order)', () => {
    const cfn = new FakeCloudFormation('meshgw');
    cfn.addEvents([
      ['meshgw', 'AWS::CloudFormation::Stack', 'CREATE_IN_PROGRESS', 'User Initiated'],
      ['NodeGroup', 'AWS::AutoScaling::AutoScalingGroup', 'CREATE_FAILED', 'Resource creation cancelled'],
      ['NodeLaunchTemplate', 'AWS::EC2::LaunchTemplate', 'CREATE_FAILED', 'Resource handler returned message: "The image id \'[ami-0]\' does not exist"'],
      ['meshgw', 'AWS::CloudFormation::Stack', 'ROLLBACK_IN_PROGRESS', 'The following resource(s) failed to create: [NodeGroup, NodeLaunchTemplate].'],
    ]);
    assert.equal(firstFailure(cfn.events, 'meshgw')?.logicalId, 'NodeLaunchTemplate');
  });

  it('picks the resource of a DELETE_FAILED over the stack summary', () => {
    const cfn = new FakeCloudFormation('meshgw');
    for (const step of failedDeleteEvents('meshgw')) cfn.addEvents(step.events);
    assert.equal(firstFailure(cfn.events, 'meshgw')?.logicalId, 'Vpc');
  });

  it('falls back to a cancellation when nothing else failed, and to nothing when nothing failed', () => {
    const cfn = new FakeCloudFormation('meshgw');
    cfn.addEvents([['RestApi', 'AWS::ApiGateway::RestApi', 'CREATE_FAILED', 'Resource creation cancelled']]);
    assert.equal(firstFailure(cfn.events, 'meshgw')?.logicalId, 'RestApi');
    assert.equal(firstFailure([], 'meshgw'), undefined);
  });
});
