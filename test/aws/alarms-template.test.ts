// The stack's alerts (issue 16 §6) as the renderer writes them: alarm and metric names held together with
// src/aws/alarm-names.ts and the collector's config, thresholds and the optional SNS topic from meshgw.yaml.
// cfn-lint and checkov run on the same rendered template in template.test.ts and checkov.test.ts. Whether the
// metric filters count the right access-log lines is checked against a FAKE of CloudWatch Logs' JSON
// filter-pattern semantics (test/aws/json-filter-pattern.ts): moto implements neither JSON patterns nor
// TestMetricFilter. The alarms themselves are exercised against moto in alarms-moto.test.ts.
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'node:test';
import { parse } from 'yaml';
import { alarmName, API_METRICS, apiMetricsNamespace, meshMetricsLogGroupName, meshMetricsNamespace, MTLS_FAILURE_METRICS, RBAC_DENIED_METRIC } from '../../src/aws/alarm-names.js';
import { loadBaseTemplate, renderTemplate } from '../../src/aws/template.js';
import type { CfnResource, CfnTemplate } from '../../src/aws/template-types.js';
import { parseConfigText } from '../../src/config/load.js';
import type { MeshgwConfig } from '../../src/config/schema.js';
import { MeshgwError } from '../../src/errors.js';
import { adotCollectorConfig } from '../../src/k8s/manifests/telemetry.js';
import { resolve, type ResolveScope } from './cfn-resolve.js';
import { jsonPatternMatches } from './json-filter-pattern.js';

const root = fileURLToPath(new URL('../../../', import.meta.url));
const STACK = 'shop-prod';
const TOPIC = 'arn:aws:sns:eu-west-1:123456789012:meshgw-alerts';

async function config(edit?: (text: string) => string): Promise<MeshgwConfig> {
  const text = await readFile(path.join(root, 'meshgw.yaml'), 'utf8');
  return parseConfigText(edit ? edit(text) : text, 'meshgw.yaml');
}

function scope(template: CfnTemplate, parameters: { ParameterKey: string; ParameterValue: string }[]): ResolveScope {
  return {
    template,
    parameters: Object.fromEntries(parameters.map((p) => [p.ParameterKey, p.ParameterValue])),
    pseudo: { 'AWS::StackName': STACK, 'AWS::Region': 'eu-west-1', 'AWS::Partition': 'aws', 'AWS::AccountId': '123456789012' },
    resources: { AccessLogGroup: `/aws/apigateway/${STACK}/access`, MeshMetricsLogGroup: meshMetricsLogGroupName(STACK) },
  };
}

function ofType(template: CfnTemplate, type: string): Array<[string, CfnResource]> {
  return Object.entries(template.Resources).filter(([, r]) => r.Type === type);
}

type Props = Record<string, unknown>;

/** One access-log line exactly as the stage's format writes it, with these $context values. */
function accessLogLine(format: string, values: Record<string, string>): string {
  return format.replace(/\$context\.[A-Za-z.]+/g, (v) => values[v.slice('$context.'.length)] ?? '-');
}

describe('the stack alarms', () => {
  it('names the alarms <stack>-api-429-rate, -api-5xx-rate, -mesh-mtls-failures and -mesh-rbac-denied', async () => {
    const r = renderTemplate(await config(), await loadBaseTemplate());
    const s = scope(r.template, r.parameters);
    const names = ofType(r.template, 'AWS::CloudWatch::Alarm').map(([, a]) => (resolve(a.Properties, s) as Props).AlarmName);
    assert.deepEqual(names.sort(), (['api429', 'api5xx', 'meshMtls', 'meshRbac'] as const).map((k) => alarmName(STACK, k)).sort());
    assert.deepEqual(names.sort(), ['shop-prod-api-429-rate', 'shop-prod-api-5xx-rate', 'shop-prod-mesh-mtls-failures', 'shop-prod-mesh-rbac-denied']);
  });

  it('treats missing data as not breaching, and notifies nothing without aws.alarms.topicArn', async () => {
    const r = renderTemplate(await config(), await loadBaseTemplate());
    const s = scope(r.template, r.parameters);
    for (const [id, alarm] of ofType(r.template, 'AWS::CloudWatch::Alarm')) {
      const p = resolve(alarm.Properties, s) as Props;
      assert.equal(p.TreatMissingData, 'notBreaching', id);
      assert.equal(p.AlarmActions, undefined, `${id} has no action without a topic`);
      assert.equal(p.OKActions, undefined, id);
    }
  });

  it('notifies the configured SNS topic on ALARM and on OK, with the thresholds from aws.alarms', async () => {
    const cfg = await config();
    cfg.aws.alarms = { topicArn: TOPIC, throttledPercent: 25, serverErrorPercent: 2.5 };
    const r = renderTemplate(cfg, await loadBaseTemplate());
    const s = scope(r.template, r.parameters);
    for (const [id, alarm] of ofType(r.template, 'AWS::CloudWatch::Alarm')) {
      const p = resolve(alarm.Properties, s) as Props;
      assert.deepEqual(p.AlarmActions, [TOPIC], id);
      assert.deepEqual(p.OKActions, [TOPIC], id);
    }
    assert.equal((resolve(r.template.Resources.Api429RateAlarm.Properties, s) as Props).Threshold, '25');
    assert.equal((resolve(r.template.Resources.Api5xxRateAlarm.Properties, s) as Props).Threshold, '2.5');
  });

  it('rejects an alarm percentage above 100 and a topic that is not an SNS ARN, naming the field', async () => {
    const withAlarms = (alarms: string) => (t: string) => t.replace(/^aws:\n/m, `aws:\n  alarms: ${alarms}\n`);
    await assert.rejects(config(withAlarms('{ throttledPercent: 150 }')), (e: unknown) => e instanceof MeshgwError && /aws\.alarms\.throttledPercent/.test(e.message) && /0 to 100/.test(e.message));
    await assert.rejects(config(withAlarms('{ topicArn: arn:aws:sqs:eu-west-1:123456789012:q }')), (e: unknown) => e instanceof MeshgwError && /aws\.alarms\.topicArn/.test(e.message) && /SNS topic ARN/.test(e.message));
  });

  it('watches exactly the metrics the collector publishes, in the namespace and log group it writes', async () => {
    const cfg = await config();
    cfg.aws.stackName = STACK;
    const r = renderTemplate(cfg, await loadBaseTemplate());
    const s = scope(r.template, r.parameters);
    const mtls = resolve(r.template.Resources.MeshMtlsFailuresAlarm.Properties, s) as { Metrics: Array<{ Id: string; MetricStat?: { Metric: { Namespace: string; MetricName: string; Dimensions: unknown[] }; Stat: string; Period: number }; Expression?: string }> };
    const stats = mtls.Metrics.filter((m) => m.MetricStat);
    assert.deepEqual(stats.map((m) => m.MetricStat!.Metric.MetricName), [...MTLS_FAILURE_METRICS]);
    for (const m of stats) {
      assert.equal(m.MetricStat!.Metric.Namespace, meshMetricsNamespace(STACK));
      assert.deepEqual(m.MetricStat!.Metric.Dimensions, [{ Name: 'namespace', Value: cfg.mesh.namespace }]);
      assert.equal(m.MetricStat!.Stat, 'Sum');
    }
    // The expression adds every failure series, each filled with 0 where a minute has no data point.
    const expression = mtls.Metrics.find((m) => m.Expression)!.Expression!;
    for (const m of stats) assert.ok(expression.includes(`FILL(${m.Id}, 0)`), `${m.Id} is in ${expression}`);
    const rbac = resolve(r.template.Resources.MeshRbacDeniedAlarm.Properties, s) as Props;
    assert.equal(rbac.MetricName, RBAC_DENIED_METRIC);
    assert.equal(rbac.Namespace, meshMetricsNamespace(STACK));

    const collector = parse(adotCollectorConfig(cfg)) as { exporters: { awsemf: { namespace: string; log_group_name: string } } };
    assert.equal(collector.exporters.awsemf.namespace, meshMetricsNamespace(STACK));
    assert.equal(collector.exporters.awsemf.log_group_name, (resolve(r.template.Resources.MeshMetricsLogGroup.Properties, s) as Props).LogGroupName);
  });

  it('lets the collector role write only to the mesh metrics log group, under the CloudWatch agent boundary', async () => {
    const r = renderTemplate(await config(), await loadBaseTemplate());
    const s = scope(r.template, r.parameters);
    const role = resolve(r.template.Resources.AdotCollectorRole.Properties, s) as { PermissionsBoundary: string; Policies: Array<{ PolicyDocument: { Statement: Array<{ Action: string[]; Resource: unknown }> } }> };
    assert.equal(role.PermissionsBoundary, 'arn:aws:iam::aws:policy/CloudWatchAgentServerPolicy');
    const statements = role.Policies.flatMap((p) => p.PolicyDocument.Statement);
    assert.deepEqual(statements.flatMap((st) => st.Action).sort(), ['logs:CreateLogStream', 'logs:DescribeLogStreams', 'logs:PutLogEvents']);
    for (const st of statements) assert.deepEqual(st.Resource, { 'Fn::GetAtt': ['MeshMetricsLogGroup', 'Arn'] });
  });

  it('counts the 429 and 5xx lines of the stage access-log format, and every request once (JSON filter semantics, fake)', async () => {
    const r = renderTemplate(await config(), await loadBaseTemplate());
    const s = scope(r.template, r.parameters);
    const format = String((r.template.Resources.ApiStage.Properties as { AccessLogSetting: { Format: string } }).AccessLogSetting.Format);
    const filters = Object.fromEntries(
      ofType(r.template, 'AWS::Logs::MetricFilter').map(([, f]) => {
        const p = resolve(f.Properties, s) as { FilterPattern: string; LogGroupName: string; MetricTransformations: Array<{ MetricName: string; MetricNamespace: string; MetricValue: string }> };
        assert.equal(p.LogGroupName, `/aws/apigateway/${STACK}/access`);
        assert.equal(p.MetricTransformations[0].MetricNamespace, apiMetricsNamespace(STACK));
        assert.equal(p.MetricTransformations[0].MetricValue, '1');
        return [p.MetricTransformations[0].MetricName, p.FilterPattern];
      }),
    );
    assert.deepEqual(Object.keys(filters).sort(), Object.values(API_METRICS).sort());
    const line = (status: string, responseType = '-') => accessLogLine(format, { status, requestId: 'c0ffee', 'error.responseType': responseType, 'identity.sourceIp': '203.0.113.9', httpMethod: 'POST', resourcePath: '/orders' });
    const counted = (status: string, responseType?: string) => Object.entries(filters).filter(([, p]) => jsonPatternMatches(p, line(status, responseType))).map(([m]) => m).sort();
    assert.deepEqual(counted('429', 'THROTTLED'), ['Requests', 'Throttled429']);
    assert.deepEqual(counted('502'), ['Requests', 'ServerErrors5xx']);
    assert.deepEqual(counted('504'), ['Requests', 'ServerErrors5xx']);
    assert.deepEqual(counted('200'), ['Requests']);
    assert.deepEqual(counted('403'), ['Requests']);
    assert.deepEqual(counted('450'), ['Requests'], '429 is an exact match, not a prefix');
    // The fake itself tells a string from a prefix and a line without the field from one with it.
    assert.equal(jsonPatternMatches('{ $.status = "5*" }', '{"status":"15"}'), false);
    assert.equal(jsonPatternMatches('{ $.status = "*" }', '{"other":"1"}'), false);
  });
});
