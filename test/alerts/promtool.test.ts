// Uses the real promtool (Prometheus' own rule checker and rule unit-test runner, built from the Go
// module proxy by .ci/setup.d/70-promtool.sh) on the shipped rules file: it checks the file, runs a
// hand-written unit test of a refusal burst, and judges meshgw's evaluator by asserting, with
// promtool's evaluation of the same series, the exact firing set meshgw computes at every step.
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { execa } from 'execa';
import { stringify } from 'yaml';
import { evaluateAlerts, type FiringAlert } from '../../src/alerts/evaluate.js';
import { ALERT_RULES_FILE, loadAlertRules } from '../../src/alerts/rules.js';
import { toolBin } from '../support/tools.js';
import { mixedScenario, promtoolSeries, promtoolValues, refusalBurst, STEP_MS, toScrapes, type ScenarioSeries } from './scenario.js';

let dir: string;
let promtool: string;

before(async () => {
  promtool = toolBin('promtool');
  dir = await mkdtemp(path.join(tmpdir(), 'meshgw-promtool-'));
});
after(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

interface AlertTest {
  eval_time: string;
  alertname: string;
  exp_alerts: { exp_labels: Record<string, string>; exp_annotations: Record<string, string> }[];
}

/** Runs `promtool test rules` on one test file; resolves with its output, whatever the exit code. */
async function promtoolTest(series: ScenarioSeries[], alertTests: AlertTest[]) {
  const file = path.join(dir, `test-${Date.now()}-${Math.random().toString(36).slice(2)}.yaml`);
  const doc = {
    rule_files: [ALERT_RULES_FILE],
    evaluation_interval: `${STEP_MS / 1000}s`,
    tests: [{ interval: `${STEP_MS / 1000}s`, input_series: series.map((s) => ({ series: promtoolSeries(s), values: promtoolValues(s.values) })), alert_rule_test: alertTests }],
  };
  await writeFile(file, stringify(doc));
  return execa(promtool, ['test', 'rules', file], { reject: false, all: true });
}

function expected(alerts: FiringAlert[]): AlertTest['exp_alerts'] {
  return alerts.map((a) => ({ exp_labels: a.labels, exp_annotations: { summary: a.summary, description: a.description } }));
}

const RULE_NAMES = () => [...new Set(loadAlertRules().map((r) => r.alert))];

describe('the shipped Prometheus rules file', () => {
  it('passes `promtool check rules`', async () => {
    const res = await execa(promtool, ['check', 'rules', ALERT_RULES_FILE], { reject: false, all: true });
    assert.equal(res.exitCode, 0, res.all);
    assert.match(res.all ?? '', new RegExp(`SUCCESS: ${loadAlertRules().length} rules found`));
  });

  it('fires the mTLS alert on a refusal burst and clears it once the burst leaves the 1m window (promtool test rules)', async () => {
    // Two handshakes refused between 45 s and 60 s. At 60 s and 90 s the window (t-1m, t] holds the
    // rise from 0 to 2; the first sample's extrapolation stops at the counter's zero, so the value is 2.
    // At 105 s the window starts after 45 s and holds only 2s: cleared.
    const firing = [
      {
        exp_labels: { namespace: 'meshgw', app: 'users', severity: 'critical', reason: 'fail_verify_no_cert' },
        exp_annotations: {
          summary: 'meshgw/users refused 2 mTLS handshakes: callers without a client certificate',
          description: 'The inbound listener of users counted failed mTLS handshakes (fail_verify_no_cert). A caller is outside the mesh or holds a bad certificate.',
        },
      },
    ];
    const at = (s: number, exp_alerts: AlertTest['exp_alerts']): AlertTest => ({ eval_time: `${s}s`, alertname: 'MeshMtlsHandshakeFailures', exp_alerts });
    const res = await promtoolTest(refusalBurst(), [at(45, []), at(60, firing), at(90, firing), at(105, []), at(180, [])]);
    assert.equal(res.exitCode, 0, res.all);
    assert.match(res.all ?? '', /SUCCESS/);
  });

  it('a wrong expectation fails promtool, so the agreement test below can fail', async () => {
    const res = await promtoolTest(refusalBurst(), [{ eval_time: '105s', alertname: 'MeshMtlsHandshakeFailures', exp_alerts: [{ exp_labels: { namespace: 'meshgw', app: 'users', severity: 'critical' }, exp_annotations: {} }] }]);
    assert.notEqual(res.exitCode, 0, res.all);
    assert.match(res.all ?? '', /FAILED/);
  });
});

describe("meshgw's evaluator against promtool", () => {
  it('fires the same alerts with the same labels and annotations as Prometheus at every 15 s step of a mixed scenario', async () => {
    const series = mixedScenario();
    const scrapes = toScrapes(series);
    const steps = Math.max(...series.map((s) => s.values.length));
    const tests: AlertTest[] = [];
    const firedNames = new Set<string>();
    let clearedAfterFiring = 0;
    const previous = new Map<string, number>();
    // 22 steps past the end: the [5m] windows empty out, so the rate rules clear too.
    for (let i = 0; i < steps + 22; i++) {
      const at = i * STEP_MS;
      const alerts = evaluateAlerts(scrapes, at);
      for (const name of RULE_NAMES()) {
        const mine = alerts.filter((a) => a.alert === name);
        if (mine.length > 0) firedNames.add(name);
        if (mine.length === 0 && (previous.get(name) ?? 0) > 0) clearedAfterFiring++;
        previous.set(name, mine.length);
        tests.push({ eval_time: `${at / 1000}s`, alertname: name, exp_alerts: expected(mine) });
      }
    }
    // The scenario is only a test if it makes every rule fire and then clear somewhere.
    assert.deepEqual([...firedNames].sort(), RULE_NAMES().sort());
    assert.ok(clearedAfterFiring >= RULE_NAMES().length, `only ${clearedAfterFiring} rules cleared after firing`);
    const res = await promtoolTest(series, tests);
    assert.equal(res.exitCode, 0, res.all);
  });
});
