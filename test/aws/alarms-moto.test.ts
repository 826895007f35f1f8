// The stack's alarms and metric filters, and `verify mtls`'s alarm check, against moto's real server on
// loopback (CloudWatch and CloudWatch Logs APIs). moto's CloudFormation does not model AWS::CloudWatch::Alarm
// or AWS::Logs::MetricFilter (it would skip them), so the test creates them through PutMetricAlarm and
// PutMetricFilter with exactly the properties the rendered template gives them (intrinsics resolved for a
// stack name). moto never EVALUATES an alarm: the ALARM state is set with SetAlarmState, a real API, while
// the check polls; what is tested is our reading of DescribeAlarms/ListMetrics and the check's verdicts.
// The CloudWatch client speaks the awsQuery protocol here: moto 5.2 (its botocore model) knows only that one,
// while the SDK now defaults to AWS JSON 1.0; real CloudWatch accepts both for the same operations and shapes.
import assert from 'node:assert/strict';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { readFile } from 'node:fs/promises';
import { after, before, describe, it } from 'node:test';
import { CloudWatchClient, DescribeAlarmsCommand, PutMetricAlarmCommand, PutMetricDataCommand, SetAlarmStateCommand, type PutMetricAlarmCommandInput } from '@aws-sdk/client-cloudwatch';
import { AwsQueryProtocol } from '@aws-sdk/core/protocols';
import { CloudWatchLogsClient, CreateLogGroupCommand, DescribeMetricFiltersCommand, PutMetricFilterCommand, type PutMetricFilterCommandInput } from '@aws-sdk/client-cloudwatch-logs';
import { alarmName, meshMetricsNamespace, MTLS_FAILURE_METRICS } from '../../src/aws/alarm-names.js';
import { createAlarmSource } from '../../src/aws/alarm-state.js';
import { loadBaseTemplate, renderTemplate } from '../../src/aws/template.js';
import { parseConfigText } from '../../src/config/load.js';
import type { MeshgwConfig } from '../../src/config/schema.js';
import { mtlsAlarmCheck } from '../../src/verify/aws/alarm-check.js';
import { resolve, type ResolveScope } from './cfn-resolve.js';
import { startMoto, type MotoServer } from './moto-server.js';

const root = fileURLToPath(new URL('../../../', import.meta.url));
const STACK = 'meshgw-alarms';
const REGION = 'us-east-1';

describe('the stack alarms on moto, and the mTLS alarm check', { timeout: 120_000 }, () => {
  let moto: MotoServer;
  let cloudwatch: CloudWatchClient;
  let logs: CloudWatchLogsClient;
  let cfg: MeshgwConfig;

  before(async () => {
    moto = await startMoto(root);
    const sdk = { endpoint: moto.endpoint, region: REGION, credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' }, maxAttempts: 1 };
    cloudwatch = new CloudWatchClient({ ...sdk, protocol: AwsQueryProtocol });
    logs = new CloudWatchLogsClient(sdk);
    cfg = parseConfigText(await readFile(path.join(root, 'meshgw.yaml'), 'utf8'), 'meshgw.yaml');
    cfg.aws.stackName = STACK;
    cfg.aws.alarms.topicArn = `arn:aws:sns:${REGION}:123456789012:meshgw-alerts`;

    // What CloudFormation would create, from the rendered template's own properties.
    const r = renderTemplate(cfg, await loadBaseTemplate());
    const accessLogGroup = `/aws/apigateway/${STACK}/access`;
    const scope: ResolveScope = {
      template: r.template,
      parameters: Object.fromEntries(r.parameters.map((p) => [p.ParameterKey, p.ParameterValue])),
      pseudo: { 'AWS::StackName': STACK, 'AWS::Region': REGION, 'AWS::Partition': 'aws', 'AWS::AccountId': '123456789012' },
      resources: { AccessLogGroup: accessLogGroup },
    };
    await logs.send(new CreateLogGroupCommand({ logGroupName: accessLogGroup }));
    for (const resource of Object.values(r.template.Resources)) {
      if (resource.Type === 'AWS::Logs::MetricFilter') {
        const p = resolve(resource.Properties, scope) as { FilterName: string; FilterPattern: string; LogGroupName: string; MetricTransformations: Array<Record<string, unknown>> };
        const input: PutMetricFilterCommandInput = {
          filterName: p.FilterName,
          filterPattern: p.FilterPattern,
          logGroupName: p.LogGroupName,
          metricTransformations: p.MetricTransformations.map((t) => ({ metricName: String(t.MetricName), metricNamespace: String(t.MetricNamespace), metricValue: String(t.MetricValue), defaultValue: Number(t.DefaultValue), unit: t.Unit as 'Count' })),
        };
        await logs.send(new PutMetricFilterCommand(input));
      }
      if (resource.Type === 'AWS::CloudWatch::Alarm') {
        // CloudFormation's alarm properties are PutMetricAlarm's parameters, number-typed where the API wants numbers.
        const p = resolve(resource.Properties, scope) as Record<string, unknown>;
        await cloudwatch.send(new PutMetricAlarmCommand({ ...p, Threshold: Number(p.Threshold), EvaluationPeriods: Number(p.EvaluationPeriods) } as PutMetricAlarmCommandInput));
      }
    }
  });

  after(async () => {
    await moto?.stop();
  });

  it('creates the three access-log metric filters on the access log group', async () => {
    const res = await logs.send(new DescribeMetricFiltersCommand({ logGroupName: `/aws/apigateway/${STACK}/access` }));
    const got = (res.metricFilters ?? []).map((f) => `${f.filterName} ${f.filterPattern} ${f.metricTransformations?.[0]?.metricName}`).sort();
    assert.deepEqual(got, [`${STACK}-api-429 { $.status = "429" } Throttled429`, `${STACK}-api-5xx { $.status = "5*" } ServerErrors5xx`, `${STACK}-api-requests { $.status = "*" } Requests`]);
  });

  it('creates the four alarms with the topic as their ALARM and OK actions', async () => {
    const res = await cloudwatch.send(new DescribeAlarmsCommand({ AlarmNamePrefix: `${STACK}-` }));
    const alarms = res.MetricAlarms ?? [];
    assert.deepEqual(alarms.map((a) => a.AlarmName).sort(), (['api429', 'api5xx', 'meshMtls', 'meshRbac'] as const).map((k) => alarmName(STACK, k)).sort());
    for (const a of alarms) {
      assert.deepEqual(a.AlarmActions, [cfg.aws.alarms.topicArn], a.AlarmName);
      assert.equal(a.TreatMissingData, 'notBreaching', a.AlarmName);
    }
    const mtls = alarms.find((a) => a.AlarmName === alarmName(STACK, 'meshMtls'))!;
    assert.deepEqual(mtls.Metrics?.filter((m) => m.MetricStat).map((m) => m.MetricStat?.Metric?.MetricName), [...MTLS_FAILURE_METRICS]);
  });

  it('reports OK → ALARM when the mTLS alarm trips while it polls', async () => {
    const name = alarmName(STACK, 'meshMtls');
    await cloudwatch.send(new SetAlarmStateCommand({ AlarmName: name, StateValue: 'OK', StateReason: 'no failures' }));
    let polls = 0;
    const check = mtlsAlarmCheck({
      sinceMs: Date.now(),
      deadlineMs: 60_000,
      pollMs: 0,
      // Stands in for CloudWatch's evaluation, which moto does not do: the second wait sees the breach.
      sleep: async () => {
        polls++;
        if (polls === 2) await cloudwatch.send(new SetAlarmStateCommand({ AlarmName: name, StateValue: 'ALARM', StateReason: 'Threshold Crossed: 1 datapoint [3.0] was greater than the threshold (0.0).' }));
      },
    });
    const r = await check.run({ config: cfg, alarms: createAlarmSource(cloudwatch) });
    assert.equal(r.ok, true, r.detail);
    assert.match(r.detail, /^meshgw-alarms-mesh-mtls-failures: OK → ALARM \(Threshold Crossed/);
    assert.deepEqual((r.data?.states as Array<{ state: string }>).map((s) => s.state), ['OK', 'ALARM']);
  });

  it('fails naming the missing metrics when the alarm stays OK and only some reached CloudWatch', async () => {
    const name = alarmName(STACK, 'meshMtls');
    await cloudwatch.send(new SetAlarmStateCommand({ AlarmName: name, StateValue: 'OK', StateReason: 'no failures' }));
    const namespace = meshMetricsNamespace(STACK);
    const sent = MTLS_FAILURE_METRICS.filter((m) => m.startsWith('envoy_cluster_'));
    await cloudwatch.send(new PutMetricDataCommand({ Namespace: namespace, MetricData: sent.map((m) => ({ MetricName: m, Value: 0, Dimensions: [{ Name: 'namespace', Value: cfg.mesh.namespace }] })) }));
    let now = 0;
    const check = mtlsAlarmCheck({ sinceMs: 0, deadlineMs: 30_000, pollMs: 15_000, now: () => now, sleep: async (ms) => void (now += ms) });
    const r = await check.run({ config: cfg, alarms: createAlarmSource(cloudwatch) });
    assert.equal(r.ok, false);
    assert.match(r.detail, /OK within the deadline/);
    for (const m of MTLS_FAILURE_METRICS.filter((x) => x.startsWith('envoy_listener_'))) assert.ok(r.hint?.includes(m), `${m} named in: ${r.hint}`);
    for (const m of sent) assert.ok(!r.hint?.includes(`${m},`) && !r.hint?.endsWith(m), `${m} is present, not missing`);
    assert.deepEqual(r.data?.metricsPresent, [...sent].sort());
  });

  it('fails naming the collector when no mesh metric reached CloudWatch at all', async () => {
    const other = { ...cfg, aws: { ...cfg.aws, stackName: 'meshgw-nometrics' } };
    await cloudwatch.send(new PutMetricAlarmCommand({ AlarmName: alarmName('meshgw-nometrics', 'meshMtls'), Namespace: meshMetricsNamespace('meshgw-nometrics'), MetricName: MTLS_FAILURE_METRICS[0], Statistic: 'Sum', Period: 60, EvaluationPeriods: 1, Threshold: 0, ComparisonOperator: 'GreaterThanThreshold' }));
    await cloudwatch.send(new SetAlarmStateCommand({ AlarmName: alarmName('meshgw-nometrics', 'meshMtls'), StateValue: 'OK', StateReason: 'quiet' }));
    const check = mtlsAlarmCheck({ sinceMs: 0, deadlineMs: 0, pollMs: 0 });
    const r = await check.run({ config: other, alarms: createAlarmSource(cloudwatch) });
    assert.equal(r.ok, false);
    assert.match(r.hint ?? '', /no metric in meshgw\/meshgw-nometrics\/mesh: the ADOT collector is not sending/);
    assert.match(r.hint ?? '', /kubectl -n meshgw-telemetry logs deploy\/adot-collector/);
  });

  it('fails with the fix when the stack has no mTLS alarm', async () => {
    const r = await mtlsAlarmCheck({ sinceMs: 0, deadlineMs: 0, pollMs: 0 }).run({ config: { ...cfg, aws: { ...cfg.aws, stackName: 'meshgw-old' } }, alarms: createAlarmSource(cloudwatch) });
    assert.equal(r.ok, false);
    assert.equal(r.detail, 'no alarm meshgw-old-mesh-mtls-failures in this account and region');
    assert.match(r.hint ?? '', /meshgw up --target aws/);
  });

  it('does not credit the run with an ALARM entered before it began', async () => {
    const name = alarmName(STACK, 'meshMtls');
    await cloudwatch.send(new SetAlarmStateCommand({ AlarmName: name, StateValue: 'ALARM', StateReason: 'earlier failures' }));
    const r = await mtlsAlarmCheck({ sinceMs: Date.now() + 60 * 60_000, deadlineMs: 0, pollMs: 0 }).run({ config: cfg, alarms: createAlarmSource(cloudwatch) });
    assert.equal(r.ok, false);
    assert.match(r.detail, /has been in ALARM since .* before this run began/);
  });
});
