// Real component: meshgw's own config parser on YAML text (no fake): every refusal message for
// services.<name>.replicas and services.<name>.trafficPolicy names the file, the field path and the value.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseConfigText } from '../../src/config/load.js';
import { DEFAULT_TRAFFIC_POLICY } from '../../src/config/traffic-policy.js';
import { MeshgwError } from '../../src/errors.js';

/** A config whose `users` service carries `extra` (YAML flow mapping entries) beside its pathPrefix. */
function withUsers(extra: string): string {
  return `version: 1\nservices:\n  users: { pathPrefix: /users, requireApiKey: false, ${extra} }\n  orders: { pathPrefix: /orders, requireApiKey: false, backends: [users] }\n`;
}

function refusal(text: string): string {
  try {
    parseConfigText(text, 'meshgw.yaml');
  } catch (err) {
    assert.ok(err instanceof MeshgwError, 'a config error is a MeshgwError');
    assert.equal(err.code, 'CONFIG_INVALID');
    assert.equal(err.exitCode, 2);
    assert.ok(err.hint, 'says what to do next');
    return err.message;
  }
  assert.fail('the config was accepted');
}

describe('services.<name>.replicas and trafficPolicy', () => {
  it('default to one replica and the documented policy when the service says nothing', () => {
    const cfg = parseConfigText(withUsers('backends: []'), 'meshgw.yaml');
    assert.equal(cfg.services.users.replicas, 1);
    assert.deepEqual(cfg.services.users.trafficPolicy, DEFAULT_TRAFFIC_POLICY);
    assert.deepEqual(DEFAULT_TRAFFIC_POLICY, {
      timeoutMs: 10_000,
      retries: { attempts: 2, perTryTimeoutMs: 10_000, budgetPercent: 20, minRetryConcurrency: 25 },
      outlierDetection: { consecutiveErrors: 3, baseEjectionTimeMs: 30_000, maxEjectionPercent: 50 },
      connectionPool: { maxConnections: 1024, maxPendingRequests: 1024 },
    });
  });

  it('fill the fields a partial policy leaves out and keep the ones it sets', () => {
    const cfg = parseConfigText(withUsers('replicas: 2, trafficPolicy: { timeoutMs: 1500, retries: { attempts: 1 } }'), 'meshgw.yaml');
    assert.equal(cfg.services.users.replicas, 2);
    assert.equal(cfg.services.users.trafficPolicy.timeoutMs, 1500);
    // Unset, each try may take the whole request's time, as Istio's perTryTimeout defaults to the route timeout.
    assert.deepEqual(cfg.services.users.trafficPolicy.retries, { ...DEFAULT_TRAFFIC_POLICY.retries, attempts: 1, perTryTimeoutMs: 1500 });
    assert.deepEqual(cfg.services.users.trafficPolicy.outlierDetection, DEFAULT_TRAFFIC_POLICY.outlierDetection);
  });

  it('refuse a per-try timeout longer than the whole-request timeout, naming both', () => {
    const msg = refusal(withUsers('trafficPolicy: { timeoutMs: 2000, retries: { perTryTimeoutMs: 3000 } }'));
    assert.equal(msg, 'meshgw.yaml: services.users.trafficPolicy.retries.perTryTimeoutMs: 3000 ms is longer than timeoutMs (2000 ms), which bounds every try; lower it or raise timeoutMs');
  });

  it('accept a per-try timeout longer than the request timeout when retries are off (there is no second try)', () => {
    const cfg = parseConfigText(withUsers('trafficPolicy: { timeoutMs: 2000, retries: { attempts: 0, perTryTimeoutMs: 3000 } }'), 'meshgw.yaml');
    assert.equal(cfg.services.users.trafficPolicy.retries.attempts, 0);
  });

  it('accept a per-try timeout equal to the request timeout', () => {
    const cfg = parseConfigText(withUsers('trafficPolicy: { timeoutMs: 2000, retries: { perTryTimeoutMs: 2000 } }'), 'meshgw.yaml');
    assert.equal(cfg.services.users.trafficPolicy.retries.perTryTimeoutMs, 2000);
  });

  const cases: [string, string, RegExp][] = [
    ['no replica', 'replicas: 0', /^meshgw\.yaml: services\.users\.replicas: expected at least 1 replica \(got number 0\)$/],
    ['too many replicas', 'replicas: 11', /^meshgw\.yaml: services\.users\.replicas: expected at most 10 replicas \(got number 11\)$/],
    ['half a replica', 'replicas: 1.5', /^meshgw\.yaml: services\.users\.replicas: expected a whole number \(got number 1\.5\)$/],
    ['replicas as text', 'replicas: two', /^meshgw\.yaml: services\.users\.replicas: expected number, got string "two"$/],
    ['a zero timeout', 'trafficPolicy: { timeoutMs: 0 }', /^meshgw\.yaml: services\.users\.trafficPolicy\.timeoutMs: expected at least 1 ms \(got number 0\)$/],
    ['a timeout over an hour', 'trafficPolicy: { timeoutMs: 3600001 }', /^meshgw\.yaml: services\.users\.trafficPolicy\.timeoutMs: expected at most 3600000 ms \(one hour\) \(got number 3600001\)$/],
    ['a fractional timeout', 'trafficPolicy: { timeoutMs: 2.5 }', /^meshgw\.yaml: services\.users\.trafficPolicy\.timeoutMs: expected a whole number \(got number 2\.5\)$/],
    ['negative retries', 'trafficPolicy: { retries: { attempts: -1 } }', /^meshgw\.yaml: services\.users\.trafficPolicy\.retries\.attempts: expected 0 \(no retries\) or more \(got number -1\)$/],
    ['eleven retries', 'trafficPolicy: { retries: { attempts: 11 } }', /^meshgw\.yaml: services\.users\.trafficPolicy\.retries\.attempts: expected at most 10 retries \(got number 11\)$/],
    ['a budget over 100 %', 'trafficPolicy: { retries: { budgetPercent: 120 } }', /^meshgw\.yaml: services\.users\.trafficPolicy\.retries\.budgetPercent: expected a percentage from 0 to 100 \(got number 120\)$/],
    ['a negative retry concurrency', 'trafficPolicy: { retries: { minRetryConcurrency: -1 } }', /^meshgw\.yaml: services\.users\.trafficPolicy\.retries\.minRetryConcurrency: expected 0 or more \(got number -1\)$/],
    ['ejection after zero errors', 'trafficPolicy: { outlierDetection: { consecutiveErrors: 0 } }', /^meshgw\.yaml: services\.users\.trafficPolicy\.outlierDetection\.consecutiveErrors: expected at least 1 \(got number 0\)$/],
    ['a zero ejection time', 'trafficPolicy: { outlierDetection: { baseEjectionTimeMs: 0 } }', /^meshgw\.yaml: services\.users\.trafficPolicy\.outlierDetection\.baseEjectionTimeMs: expected at least 1 ms \(got number 0\)$/],
    ['ejecting 150 %', 'trafficPolicy: { outlierDetection: { maxEjectionPercent: 150 } }', /^meshgw\.yaml: services\.users\.trafficPolicy\.outlierDetection\.maxEjectionPercent: expected a percentage from 0 to 100 \(got number 150\)$/],
    ['no connections', 'trafficPolicy: { connectionPool: { maxConnections: 0 } }', /^meshgw\.yaml: services\.users\.trafficPolicy\.connectionPool\.maxConnections: expected at least 1 \(got number 0\)$/],
    ['a negative queue', 'trafficPolicy: { connectionPool: { maxPendingRequests: -1 } }', /^meshgw\.yaml: services\.users\.trafficPolicy\.connectionPool\.maxPendingRequests: expected 0 \(no queue\) or more \(got number -1\)$/],
    ['a misspelt field', 'trafficPolicy: { retries: { retryOn: 5xx } }', /^meshgw\.yaml: services\.users\.trafficPolicy\.retries: unknown field "retryOn"$/],
    ['a policy that is not a mapping', 'trafficPolicy: strict', /^meshgw\.yaml: services\.users\.trafficPolicy: expected object, got string "strict"$/],
  ];
  for (const [what, yaml, expected] of cases) {
    it(`refuse ${what}, naming the field and the value`, () => {
      assert.match(refusal(withUsers(yaml)), expected);
    });
  }
});
