import {
  type CloudFormationClient,
  CreateChangeSetCommand,
  DeleteChangeSetCommand,
  DeleteStackCommand,
  DescribeChangeSetCommand,
  type DescribeChangeSetCommandOutput,
  DescribeStackDriftDetectionStatusCommand,
  DescribeStackEventsCommand,
  DescribeStackResourceDriftsCommand,
  DescribeStacksCommand,
  DetectStackDriftCommand,
  ExecuteChangeSetCommand,
  ValidateTemplateCommand,
} from '@aws-sdk/client-cloudformation';
import type { DeployedParameter } from './stack-inputs.js';
import type { StackParameter } from './template.js';

/** A stack as meshgw needs it. */
export interface StackDescription {
  stackId: string;
  stackName: string;
  status: string;
  statusReason?: string;
  lastUpdated?: Date;
  outputs: Record<string, string>;
  /** The deployed parameter values (and what SSM-typed ones resolved to): `up` keeps the pinned AMI. */
  parameters?: Record<string, DeployedParameter>;
}

/** One resource change of a change set, flattened. */
export interface ResourceChange {
  action: string;
  logicalId: string;
  resourceType: string;
  physicalId?: string;
  /** True / False / Conditional, for Modify. */
  replacement?: string;
}

export interface ChangeSetDescription {
  id: string;
  status: string;
  statusReason?: string;
  executionStatus?: string;
  changes: ResourceChange[];
}

export interface StackEvent {
  eventId: string;
  timestamp: Date;
  logicalId: string;
  resourceType: string;
  status: string;
  reason?: string;
  physicalId?: string;
}

export interface ResourceDrift {
  logicalId: string;
  resourceType: string;
  status: string;
}

export interface CreateChangeSetInput {
  stackName: string;
  changeSetName: string;
  changeSetType: 'CREATE' | 'UPDATE';
  templateBody: string;
  parameters: StackParameter[];
}

/**
 * The few CloudFormation calls meshgw makes (after the CDK's ICloudFormationClient): tests give a
 * fake of this, or the real adapter pointed at moto.
 */
export interface CloudFormationApi {
  validateTemplate(templateBody: string): Promise<void>;
  /** undefined when no such stack exists. */
  describeStack(stackName: string): Promise<StackDescription | undefined>;
  createChangeSet(input: CreateChangeSetInput): Promise<{ id: string; stackId: string }>;
  describeChangeSet(changeSetId: string, stackName: string): Promise<ChangeSetDescription>;
  executeChangeSet(changeSetId: string, stackName: string): Promise<void>;
  deleteChangeSet(changeSetId: string, stackName: string): Promise<void>;
  /** Newest first, as AWS returns them; at most `maxPages` pages. */
  describeStackEvents(stackName: string, maxPages: number): Promise<StackEvent[]>;
  deleteStack(stackName: string): Promise<void>;
  detectStackDrift(stackName: string): Promise<string>;
  describeDriftDetection(detectionId: string): Promise<{ status: string; driftStatus?: string; reason?: string }>;
  describeResourceDrifts(stackName: string): Promise<ResourceDrift[]>;
}

/** The CloudFormationApi over the AWS SDK client from createAwsClients. */
export function createCloudFormationApi(client: CloudFormationClient): CloudFormationApi {
  return {
    async validateTemplate(templateBody) {
      await client.send(new ValidateTemplateCommand({ TemplateBody: templateBody }));
    },
    async describeStack(stackName) {
      try {
        const out = await client.send(new DescribeStacksCommand({ StackName: stackName }));
        const s = out.Stacks?.[0];
        if (!s) return undefined;
        const outputs: Record<string, string> = {};
        for (const o of s.Outputs ?? []) if (o.OutputKey) outputs[o.OutputKey] = o.OutputValue ?? '';
        const parameters: Record<string, DeployedParameter> = {};
        for (const p of s.Parameters ?? []) if (p.ParameterKey) parameters[p.ParameterKey] = { value: p.ParameterValue ?? '', resolved: p.ResolvedValue };
        return {
          stackId: s.StackId ?? stackName,
          stackName: s.StackName ?? stackName,
          status: s.StackStatus ?? 'UNKNOWN',
          statusReason: s.StackStatusReason,
          lastUpdated: s.LastUpdatedTime ?? s.CreationTime,
          outputs,
          parameters,
        };
      } catch (err) {
        // DescribeStacks answers a ValidationError "Stack with id X does not exist" for a missing stack.
        if (isMissingStack(err)) return undefined;
        throw err;
      }
    },
    async createChangeSet(input) {
      const out = await client.send(
        new CreateChangeSetCommand({
          StackName: input.stackName,
          ChangeSetName: input.changeSetName,
          ChangeSetType: input.changeSetType,
          TemplateBody: input.templateBody,
          Parameters: input.parameters,
          Capabilities: ['CAPABILITY_NAMED_IAM'],
          Description: 'meshgw up',
        }),
      );
      return { id: out.Id ?? input.changeSetName, stackId: out.StackId ?? input.stackName };
    },
    async describeChangeSet(changeSetId, stackName) {
      const changes: ResourceChange[] = [];
      let token: string | undefined;
      let first: DescribeChangeSetCommandOutput | undefined;
      for (let page = 0; page < 50; page++) {
        const out = await client.send(new DescribeChangeSetCommand({ ChangeSetName: changeSetId, StackName: stackName, NextToken: token }));
        first ??= out;
        for (const c of out.Changes ?? []) {
          const rc = c.ResourceChange;
          if (!rc) continue;
          changes.push({
            action: rc.Action ?? 'Unknown',
            logicalId: rc.LogicalResourceId ?? '?',
            resourceType: rc.ResourceType ?? '?',
            physicalId: rc.PhysicalResourceId,
            replacement: rc.Replacement,
          });
        }
        token = out.NextToken;
        if (!token) break;
      }
      return { id: first?.ChangeSetId ?? changeSetId, status: first?.Status ?? 'UNKNOWN', statusReason: first?.StatusReason, executionStatus: first?.ExecutionStatus, changes };
    },
    async executeChangeSet(changeSetId, stackName) {
      await client.send(new ExecuteChangeSetCommand({ ChangeSetName: changeSetId, StackName: stackName }));
    },
    async deleteChangeSet(changeSetId, stackName) {
      await client.send(new DeleteChangeSetCommand({ ChangeSetName: changeSetId, StackName: stackName }));
    },
    async describeStackEvents(stackName, maxPages) {
      const events: StackEvent[] = [];
      let token: string | undefined;
      for (let page = 0; page < maxPages; page++) {
        let out;
        try {
          out = await client.send(new DescribeStackEventsCommand({ StackName: stackName, NextToken: token }));
        } catch (err) {
          if (isMissingStack(err)) return events;
          throw err;
        }
        for (const e of out.StackEvents ?? []) {
          events.push({
            eventId: e.EventId ?? `${e.LogicalResourceId}-${e.Timestamp?.toISOString()}-${e.ResourceStatus}`,
            timestamp: e.Timestamp ?? new Date(0),
            logicalId: e.LogicalResourceId ?? '?',
            resourceType: e.ResourceType ?? '?',
            status: e.ResourceStatus ?? '?',
            reason: e.ResourceStatusReason,
            physicalId: e.PhysicalResourceId,
          });
        }
        token = out.NextToken;
        if (!token) break;
      }
      return events;
    },
    async deleteStack(stackName) {
      await client.send(new DeleteStackCommand({ StackName: stackName }));
    },
    async detectStackDrift(stackName) {
      const out = await client.send(new DetectStackDriftCommand({ StackName: stackName }));
      return out.StackDriftDetectionId ?? '';
    },
    async describeDriftDetection(detectionId) {
      const out = await client.send(new DescribeStackDriftDetectionStatusCommand({ StackDriftDetectionId: detectionId }));
      return { status: out.DetectionStatus ?? 'UNKNOWN', driftStatus: out.StackDriftStatus, reason: out.DetectionStatusReason };
    },
    async describeResourceDrifts(stackName) {
      const out = await client.send(new DescribeStackResourceDriftsCommand({ StackName: stackName }));
      return (out.StackResourceDrifts ?? []).map((d) => ({
        logicalId: d.LogicalResourceId ?? '?',
        resourceType: d.ResourceType ?? '?',
        status: d.StackResourceDriftStatus ?? '?',
      }));
    },
  };
}

export function isMissingStack(err: unknown): boolean {
  const e = err as { name?: string; message?: string };
  return e?.name === 'ValidationError' && /does not exist/i.test(e.message ?? '');
}
