import type { ChangeSetDescription, CloudFormationApi, CreateChangeSetInput, ResourceChange, ResourceDrift, StackDescription, StackEvent } from '../../src/aws/cloudformation-api.js';

type EventSpec = [logicalId: string, resourceType: string, status: string, reason?: string];

/** One step of what AWS does after an execute or delete: new events, then the stack's status. */
export interface ScriptStep {
  events: EventSpec[];
  status: string;
  statusReason?: string;
}

/**
 * A scripted stand-in for CloudFormation, for what moto cannot produce (resource failures,
 * rollbacks, DELETE_FAILED, drift). Each describeStack during a watch plays the next step.
 */
export class FakeCloudFormation implements CloudFormationApi {
  stack: StackDescription | undefined;
  /** Oldest first; served newest first like AWS. */
  events: StackEvent[] = [];
  calls: string[] = [];
  validationError: string | undefined;
  changeSetStatus: { status: string; reason?: string; changes: ResourceChange[] } = { status: 'CREATE_COMPLETE', changes: [] };
  executeScript: ScriptStep[] = [];
  deleteScript: ScriptStep[] = [];
  outputsAfter: Record<string, string> = {};
  drifts: ResourceDrift[] = [];
  private pending: ScriptStep[] = [];
  private clock = Date.parse('2026-11-24T10:00:00Z');
  private seq = 0;

  constructor(readonly stackName: string) {}

  addEvents(specs: EventSpec[]): void {
    for (const [logicalId, resourceType, status, reason] of specs) {
      this.clock += 1000;
      this.events.push({ eventId: `ev-${++this.seq}`, timestamp: new Date(this.clock), logicalId, resourceType, status, reason });
    }
  }

  setStack(status: string, outputs: Record<string, string> = {}): void {
    this.stack = { stackId: `arn:aws:cloudformation:us-east-1:123456789012:stack/${this.stackName}/1`, stackName: this.stackName, status, outputs };
  }

  async validateTemplate(): Promise<void> {
    this.calls.push('validateTemplate');
    if (this.validationError) throw Object.assign(new Error(this.validationError), { name: 'ValidationError' });
  }
  async describeStack(): Promise<StackDescription | undefined> {
    this.calls.push('describeStack');
    const step = this.pending.shift();
    if (step) {
      this.addEvents(step.events);
      if (step.status === 'GONE') this.stack = undefined;
      else if (this.stack) {
        this.stack.status = step.status;
        this.stack.statusReason = step.statusReason;
        if (step.status.endsWith('_COMPLETE')) this.stack.outputs = { ...this.outputsAfter };
      }
    }
    return this.stack ? structuredClone(this.stack) : undefined;
  }
  async createChangeSet(input: CreateChangeSetInput): Promise<{ id: string; stackId: string }> {
    this.calls.push(`createChangeSet:${input.changeSetType}`);
    if (!this.stack) this.setStack('REVIEW_IN_PROGRESS');
    return { id: `cs-${input.changeSetName}`, stackId: this.stack!.stackId };
  }
  async describeChangeSet(id: string): Promise<ChangeSetDescription> {
    this.calls.push('describeChangeSet');
    return { id, status: this.changeSetStatus.status, statusReason: this.changeSetStatus.reason, changes: this.changeSetStatus.changes };
  }
  async executeChangeSet(): Promise<void> {
    this.calls.push('executeChangeSet');
    this.pending = [...this.executeScript];
  }
  async deleteChangeSet(): Promise<void> {
    this.calls.push('deleteChangeSet');
  }
  async describeStackEvents(): Promise<StackEvent[]> {
    this.calls.push('describeStackEvents');
    return [...this.events].reverse();
  }
  async deleteStack(): Promise<void> {
    this.calls.push('deleteStack');
    this.pending = [...this.deleteScript];
  }
  async detectStackDrift(): Promise<string> {
    this.calls.push('detectStackDrift');
    return 'drift-1';
  }
  async describeDriftDetection(): Promise<{ status: string; driftStatus?: string }> {
    return { status: 'DETECTION_COMPLETE', driftStatus: this.drifts.some((d) => d.status !== 'IN_SYNC') ? 'DRIFTED' : 'IN_SYNC' };
  }
  async describeResourceDrifts(): Promise<ResourceDrift[]> {
    return this.drifts;
  }
}

const STACK = 'AWS::CloudFormation::Stack';

/** The events AWS emits when an EKS cluster fails on a first create and the stack rolls back. */
export function failedCreateEvents(stackName: string): ScriptStep[] {
  return [
    {
      status: 'CREATE_IN_PROGRESS',
      events: [
        [stackName, STACK, 'CREATE_IN_PROGRESS', 'User Initiated'],
        ['Vpc', 'AWS::EC2::VPC', 'CREATE_IN_PROGRESS'],
        ['ClusterRole', 'AWS::IAM::Role', 'CREATE_IN_PROGRESS'],
        ['Vpc', 'AWS::EC2::VPC', 'CREATE_IN_PROGRESS', 'Resource creation Initiated'],
        ['Vpc', 'AWS::EC2::VPC', 'CREATE_COMPLETE'],
        ['ClusterRole', 'AWS::IAM::Role', 'CREATE_COMPLETE'],
      ],
    },
    {
      status: 'ROLLBACK_IN_PROGRESS',
      statusReason: 'The following resource(s) failed to create: [AccessLogGroup, EKSCluster, RestApi]. Rollback requested by user.',
      events: [
        ['EKSCluster', 'AWS::EKS::Cluster', 'CREATE_IN_PROGRESS'],
        ['EKSCluster', 'AWS::EKS::Cluster', 'CREATE_FAILED', 'Resource handler returned message: "unsupported Kubernetes version 1.99 (Service: Eks, Status Code: 400, Request ID: 5b0c9a8e)" (RequestToken: 1e2f, HandlerErrorCode: InvalidRequest)'],
        ['RestApi', 'AWS::ApiGateway::RestApi', 'CREATE_FAILED', 'Resource creation cancelled'],
        ['AccessLogGroup', 'AWS::Logs::LogGroup', 'CREATE_FAILED', 'Resource creation cancelled'],
        [stackName, STACK, 'ROLLBACK_IN_PROGRESS', 'The following resource(s) failed to create: [AccessLogGroup, EKSCluster, RestApi]. Rollback requested by user.'],
      ],
    },
    {
      status: 'ROLLBACK_COMPLETE',
      events: [
        ['ClusterRole', 'AWS::IAM::Role', 'DELETE_COMPLETE'],
        ['Vpc', 'AWS::EC2::VPC', 'DELETE_COMPLETE'],
        [stackName, STACK, 'ROLLBACK_COMPLETE'],
      ],
    },
  ];
}

/** The events AWS emits when the VPC cannot be deleted because something outside the stack uses it. */
export function failedDeleteEvents(stackName: string): ScriptStep[] {
  return [
    {
      status: 'DELETE_IN_PROGRESS',
      events: [
        [stackName, STACK, 'DELETE_IN_PROGRESS', 'User Initiated'],
        ['ApiStage', 'AWS::ApiGateway::Stage', 'DELETE_COMPLETE'],
        ['Vpc', 'AWS::EC2::VPC', 'DELETE_IN_PROGRESS'],
      ],
    },
    {
      status: 'DELETE_FAILED',
      statusReason: 'The following resource(s) failed to delete: [Vpc]. ',
      events: [
        ['Vpc', 'AWS::EC2::VPC', 'DELETE_FAILED', `Resource handler returned message: "The vpc 'vpc-0abc' has dependencies and cannot be deleted. (Service: Ec2, Status Code: 400, Request ID: 77aa)" (RequestToken: 9c1d, HandlerErrorCode: InvalidRequest)`],
        [stackName, STACK, 'DELETE_FAILED', 'The following resource(s) failed to delete: [Vpc]. '],
      ],
    },
  ];
}
