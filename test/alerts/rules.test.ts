// Pure unit tests of the rules loader, the PromQL subset and the annotation templates: no external
// component. The evaluator's agreement with Prometheus itself is in promtool.test.ts (real promtool).
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { evaluateAlerts, describeRangeOverride, type FiringAlert } from '../../src/alerts/evaluate.js';
import { alertsForEdge } from '../../src/alerts/edges.js';
import { ALERT_RULES_FILE, loadAlertRules, parseAlertRules } from '../../src/alerts/rules.js';
import { compileTemplate, renderTemplate } from '../../src/alerts/template.js';
import { GATEWAY_WORKLOAD } from '../../src/config/topology.js';
import { MeshgwError } from '../../src/errors.js';
import { GATEWAY_NAME } from '../../src/k8s/labels.js';
import type { Scrape } from '../../src/metrics/contract.js';

function rulesWith(expr: string, extra = ''): string {
  return `groups:\n  - name: g\n    rules:\n      - alert: A\n        expr: '${expr}'\n${extra}`;
}

function loadError(text: string): MeshgwError {
  try {
    parseAlertRules(text, 'rules.yaml');
  } catch (err) {
    assert.ok(err instanceof MeshgwError, `not a MeshgwError: ${String(err)}`);
    return err;
  }
  assert.fail('the rules loaded');
}

describe('the alert rules loader', () => {
  it('loads every rule of the shipped file', () => {
    const text = readFileSync(ALERT_RULES_FILE, 'utf8');
    const declared = [...text.matchAll(/^\s*- alert: (\S+)/gm)].map((m) => m[1]);
    assert.ok(declared.length >= 5);
    assert.deepEqual(
      loadAlertRules().map((r) => r.alert),
      declared,
    );
  });

  const unsupported: [string, string, RegExp][] = [
    ['an aggregation other than sum', 'avg by (app) (rate(x[1m])) > 0', /avg\(\) is not supported/],
    ['vector matching with on()', 'sum(rate(a[1m])) / on(app) sum(rate(b[1m])) > 0', /on\(\) is not supported/],
    ['a bare selector', 'x > 0', /bare selector is not supported/],
    ['sum without', 'sum without (app) (rate(x[1m])) > 0', /sum without/],
    ['an offset', 'sum(rate(x[1m] offset 5m)) > 0', /'offset' after a range selector/],
    ['the bool modifier', 'sum(rate(x[1m])) > bool 0', /bool modifier/],
    ['a comparison between two vectors', 'sum(rate(a[1m])) > sum(rate(b[1m]))', /number on its right/],
    ['a scalar expression', '1 / 2', /must return series/],
  ];
  for (const [what, expr, message] of unsupported) {
    it(`refuses ${what} at load, naming the rule and the construct`, () => {
      const err = loadError(rulesWith(expr));
      assert.equal(err.code, 'CONFIG_INVALID');
      assert.match(err.message, /rules\.yaml: groups\[0\]\.rules\[0\] \(A\)\.expr/);
      assert.match(err.message, message);
      assert.ok(err.hint);
    });
  }

  it('refuses `for:` (pending state is outside what meshgw evaluates)', () => {
    assert.match(loadError(rulesWith('sum(rate(x[1m])) > 0', '        for: 5m\n')).message, /'for' is not supported \(pending\/keep-firing state/);
  });

  it('refuses recording rules and unknown template actions', () => {
    assert.match(loadError('groups:\n  - name: g\n    rules:\n      - record: r\n        expr: sum(rate(x[1m]))\n').message, /'record' is not supported/);
    const bad = rulesWith('sum(rate(x[1m])) > 0', "        annotations:\n          summary: '{{ $value | humanize }}'\n");
    assert.match(loadError(bad).message, /annotations\.summary: template action \{\{ \$value \| humanize \}\} is not supported/);
  });

  it("matches the gateway's workload locally and on EKS with one regex, and no service", () => {
    const rule = loadAlertRules().find((r) => r.alert === 'ApiThrottledRate')!;
    const re = new RegExp(`^(?:${/source_workload=~"([^"]+)"/.exec(rule.exprText)![1]})$`);
    // Istio names the Deployment of a Gateway API Gateway `<name>-istio` and reports it as the workload.
    assert.ok(re.test(GATEWAY_WORKLOAD), GATEWAY_WORKLOAD);
    assert.ok(re.test(`${GATEWAY_NAME}-istio`), `${GATEWAY_NAME}-istio`);
    for (const other of ['users', 'orders', 'products', 'istio-ingressgateway']) assert.ok(!re.test(other), other);
  });
});

describe('annotation templates', () => {
  it('format values as Go does: printf "%.0f" rounds half to even, humanizePercentage is %.4g%', () => {
    const t = compileTemplate('{{ $labels.app }}: {{ printf "%.0f" $value }} / {{ $value | humanizePercentage }} {{ $labels.missing }}');
    assert.equal(renderTemplate(t, { app: 'users' }, 2.5), 'users: 2 / 250% <no value>');
    assert.equal(renderTemplate(t, { app: 'users' }, 3.5), 'users: 4 / 350% <no value>');
    assert.equal(renderTemplate(t, { app: 'x' }, 0.41176470588), 'x: 0 / 41.18% <no value>');
    assert.equal(renderTemplate(t, { app: 'x' }, 0.125), 'x: 0 / 12.5% <no value>');
    assert.equal(renderTemplate(t, { app: 'x' }, 123.456), 'x: 123 / 1.235e+04% <no value>');
  });
});

function scrape(at: number, app: string, samples: Scrape['samples']): Scrape {
  return { at, target: { namespace: 'meshgw', pod: `${app}-1`, app, url: `http://${app}/stats/prometheus` }, samples };
}

describe('evaluateAlerts', () => {
  it('evaluates with a short range in place of the rules own when asked, and says so', () => {
    const counter = (at: number, v: number) => scrape(at, 'users', [{ name: 'envoy_listener_ssl_fail_verify_no_cert', labels: { listener_address: '127.0.0.1_1' }, value: v }]);
    const scrapes = [counter(1000, 0), counter(2000, 0), counter(3000, 1), counter(4000, 1), counter(9000, 1), counter(10000, 1)];
    const firing = (at: number) => evaluateAlerts(scrapes, at, { rangeMs: 5000 }).map((a) => `${a.alert}{${a.labels.app}}`);
    assert.deepEqual(firing(3000), ['MeshMtlsHandshakeFailures{users}']);
    assert.deepEqual(firing(6000), ['MeshMtlsHandshakeFailures{users}']);
    assert.deepEqual(firing(10000), []);
    // With the rules' own [1m], the same samples still hold the refusal at 10 s.
    assert.deepEqual(evaluateAlerts(scrapes, 10000).map((a) => a.alert), ['MeshMtlsHandshakeFailures']);
    assert.equal(describeRangeOverride(5000), 'evaluated with [5s] in place of [1m], [5m]');
  });

  it('keeps the target labels over scraped labels of the same name (exported_app)', () => {
    const s = (at: number, v: number) => scrape(at, 'orders', [{ name: 'envoy_http_rbac', labels: { authz_enforce_result: 'denied', app: 'spoofed' }, value: v }]);
    const [alert] = evaluateAlerts([s(0, 0), s(15000, 4)], 15000);
    assert.equal(alert.alert, 'MeshAuthorizationDenied');
    assert.equal(alert.labels.app, 'orders');
    assert.equal(alert.value, 4);
  });
});

describe('a rule Prometheus would fail at evaluation', () => {
  it('fails as Prometheus does when a __name__ regex leaves two series with one label set', () => {
    const rules = parseAlertRules(rulesWith('sum by (app) (increase({__name__=~"a|b"}[1m])) > 0'), 'rules.yaml');
    const s = (at: number, v: number) => scrape(at, 'users', [
      { name: 'a', labels: { l: 'x' }, value: v },
      { name: 'b', labels: { l: 'x' }, value: v },
    ]);
    assert.throws(() => evaluateAlerts([s(0, 0), s(15000, 1)], 15000, { rules }), /rule A .*vector cannot contain metrics with the same labelset/);
  });
});

describe('alertsForEdge', () => {
  it("marks an edge firing by its own error rate, or by a refusal at the destination's sidecar", () => {
    const alerts: FiringAlert[] = [
      { alert: 'MeshEdgeErrorRate', severity: 'warning', labels: { source_workload: 'orders', destination_workload: 'users', severity: 'warning' }, value: 0.1, summary: '', description: '' },
      { alert: 'MeshMtlsHandshakeFailures', severity: 'critical', labels: { namespace: 'meshgw', app: 'products', severity: 'critical' }, value: 1, summary: '', description: '' },
      { alert: 'ApiThrottledRate', severity: 'warning', labels: { source_workload: 'gateway', severity: 'warning' }, value: 0.4, summary: '', description: '' },
    ];
    assert.deepEqual(alertsForEdge(alerts, 'orders', 'users').map((a) => a.alert), ['MeshEdgeErrorRate']);
    assert.deepEqual(alertsForEdge(alerts, 'orders', 'products').map((a) => a.alert), ['MeshMtlsHandshakeFailures']);
    assert.deepEqual(alertsForEdge(alerts, 'gateway', 'orders').map((a) => a.alert), ['ApiThrottledRate']);
    assert.deepEqual(alertsForEdge(alerts, 'users', 'orders'), []);
  });
});
