// The CLI's CloudFormation conversation against moto's real server on loopback: change sets
// (CREATE, empty, UPDATE), waiting, events, outputs, status, deletion. moto cannot model the full
// template (EKS, VPC Link, Stage, UsagePlan, ApiKey; GetAtt to them crashes its Outputs), so this
// drives a small stack of types it does model: test/aws/fixtures/moto-stack.yaml. The full
// template is checked by cfn-lint and the renderer tests in template.test.ts.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { CloudFormationClient, DescribeStacksCommand, ListChangeSetsCommand } from '@aws-sdk/client-cloudformation';
import { DescribeRepositoriesCommand, ECRClient } from '@aws-sdk/client-ecr';
import { createAwsCommandDeps, type AwsCommandDeps } from '../../src/aws/command-deps.js';
import { runDownAws, runStatusAws, runUpAws } from '../../src/aws/commands.js';
import { outputsFile } from '../../src/aws/outputs.js';
import type { StackStatusReport } from '../../src/aws/stack-status.js';
import type { CommandContext } from '../../src/cli/context.js';
import { fastTiming, scratchContext, type Scratch } from './helpers.js';
import { startMoto, type MotoServer } from './moto-server.js';

const root = fileURLToPath(new URL('../../../', import.meta.url));
const STACK = 'meshgw-moto';
const REGION = 'us-east-1';

describe('meshgw up/status/down --target aws against moto', { timeout: 120_000 }, () => {
  let moto: MotoServer;
  let s: Scratch;
  let savedEnv: NodeJS.ProcessEnv;
  let fixture: string;
  const cleanups: string[] = [];
  const sdk = { credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' }, region: REGION };

  function deps(ctx: CommandContext, yes = true): AwsCommandDeps {
    return createAwsCommandDeps(ctx, { aws: { region: REGION }, yes }, {
      renderTemplate: async (cfg) => ({
        template: { Parameters: {}, Resources: {}, Outputs: {} },
        body: fixture,
        parameters: [{ ParameterKey: 'StageName', ParameterValue: cfg.gateway.stage }],
      }),
      removeDeployedObjects: async () => {
        cleanups.push('cleanup');
        return { type: 'skipped', reason: 'no cluster behind moto' };
      },
      timing: fastTiming(),
    });
  }

  before(async () => {
    savedEnv = { ...process.env };
    moto = await startMoto(root);
    for (const k of Object.keys(process.env)) if (k.startsWith('AWS_')) delete process.env[k];
    Object.assign(process.env, { AWS_ENDPOINT_URL: moto.endpoint, AWS_ACCESS_KEY_ID: 'testing', AWS_SECRET_ACCESS_KEY: 'testing', AWS_REGION: REGION, AWS_EC2_METADATA_DISABLED: 'true' });
    fixture = await readFile(path.join(root, 'test/aws/fixtures/moto-stack.yaml'), 'utf8');
    s = await scratchContext(STACK);
  });

  after(async () => {
    process.env = savedEnv;
    await moto?.stop();
    await s?.cleanup();
  });

  it('creates the stack through a CREATE change set, streaming its events and saving its outputs', async () => {
    assert.equal(await runUpAws(s.ctx, { dryRun: false }, deps(s.ctx)), 0);
    const result = s.reporter.results.at(-1) as Record<string, unknown>;
    assert.equal(result.type, 'deployed');
    assert.equal(result.operation, 'CREATE');
    assert.equal(result.status, 'CREATE_COMPLETE');
    const text = s.reporter.text();
    assert.match(text, /Change set \(CREATE\), 5 resource changes:/);
    assert.match(text, /Add +UsersRepository +AWS::ECR::Repository/);
    assert.match(text, /CREATE_COMPLETE +meshgw-moto \(AWS::CloudFormation::Stack\)/);
    // The stack and what it made exist in moto.
    const described = await new CloudFormationClient(sdk).send(new DescribeStacksCommand({ StackName: STACK }));
    assert.equal(described.Stacks?.[0].StackStatus, 'CREATE_COMPLETE');
    const repos = await new ECRClient(sdk).send(new DescribeRepositoriesCommand({ repositoryNames: ['meshgw-test/users'] }));
    assert.equal(repos.repositories?.length, 1);
    // Saved outputs are what DescribeStacks reports (moto leaves them empty after a change set).
    const saved = JSON.parse(await readFile(outputsFile(s.ctx.loaded.stateDir, STACK), 'utf8'));
    const reported = Object.fromEntries((described.Stacks?.[0].Outputs ?? []).map((o) => [o.OutputKey, o.OutputValue]));
    assert.deepEqual(saved, reported);
  });

  it('finds no changes on a second up and deletes the empty change set', async () => {
    assert.equal(await runUpAws(s.ctx, { dryRun: false }, deps(s.ctx)), 0);
    assert.equal((s.reporter.results.at(-1) as Record<string, unknown>).type, 'no-changes');
    const sets = await new CloudFormationClient(sdk).send(new ListChangeSetsCommand({ StackName: STACK }));
    // Only the executed CREATE change set is left; the empty one was deleted.
    assert.deepEqual((sets.Summaries ?? []).map((c) => c.ExecutionStatus), ['EXECUTE_COMPLETE']);
  });

  it('updates the stack when a parameter from meshgw.yaml changes', async () => {
    s.ctx.loaded.config.gateway.stage = 'test';
    assert.equal(await runUpAws(s.ctx, { dryRun: false }, deps(s.ctx)), 0);
    const result = s.reporter.results.at(-1) as Record<string, unknown>;
    assert.deepEqual([result.type, result.operation, result.status], ['deployed', 'UPDATE', 'UPDATE_COMPLETE']);
    assert.match(s.reporter.text(), /UPDATE_COMPLETE +meshgw-moto \(AWS::CloudFormation::Stack\)/);
    // moto records the new parameter value but does not re-render resources from it, so the stack's
    // parameters are the evidence here.
    const described = await new CloudFormationClient(sdk).send(new DescribeStacksCommand({ StackName: STACK }));
    assert.equal(described.Stacks?.[0].Parameters?.find((p) => p.ParameterKey === 'StageName')?.ParameterValue, 'test');
  });

  it('reports status, outputs and the last events in the JSON shape', async () => {
    const json = await scratchContext(STACK, undefined, 'json');
    try {
      assert.equal(await runStatusAws(json.ctx, { drift: false }, deps(json.ctx, false)), 0);
      const report = json.reporter.results.at(-1) as StackStatusReport;
      assert.equal(report.exists, true);
      assert.equal(report.status, 'UPDATE_COMPLETE');
      assert.equal(report.region, REGION);
      assert.ok(report.events.length > 0 && report.events.length <= 10);
      assert.deepEqual([report.events.at(-1)?.logicalId, report.events.at(-1)?.status], [STACK, 'UPDATE_COMPLETE']);
    } finally {
      await json.cleanup();
    }
  });

  it('deletes the stack after the cluster cleanup, and removes the saved outputs', async () => {
    assert.ok(existsSync(outputsFile(s.ctx.loaded.stateDir, STACK)));
    assert.equal(await runDownAws(s.ctx, deps(s.ctx)), 0);
    assert.deepEqual(cleanups, ['cleanup']);
    assert.match(s.reporter.text(), /DELETE_COMPLETE +meshgw-moto \(AWS::CloudFormation::Stack\)/);
    assert.equal(existsSync(outputsFile(s.ctx.loaded.stateDir, STACK)), false);
    await assert.rejects(new CloudFormationClient(sdk).send(new DescribeStacksCommand({ StackName: STACK })), /does not exist/);
  });

  it('says there is nothing to delete when the stack is gone', async () => {
    assert.equal(await runDownAws(s.ctx, deps(s.ctx)), 0);
    assert.deepEqual(s.reporter.results.at(-1), { type: 'absent', stackName: STACK });
    assert.deepEqual(cleanups, ['cleanup'], 'no cleanup without a stack');
  });
});
