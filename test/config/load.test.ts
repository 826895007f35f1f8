import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { describe, it } from 'node:test';
import { parseConfigText, resolveConfigPath } from '../../src/config/load.js';
import { authorizationTable, principal, routeFor, spiffeId } from '../../src/config/topology.js';
import { MeshgwError } from '../../src/errors.js';

const repoConfig = new URL('../../../meshgw.yaml', import.meta.url);

async function baseText(): Promise<string> {
  return readFile(repoConfig, 'utf8');
}

function refusal(text: string): string {
  try {
    parseConfigText(text, 'meshgw.yaml');
  } catch (err) {
    assert.ok(err instanceof MeshgwError, 'a config error is a MeshgwError');
    assert.equal(err.code, 'CONFIG_INVALID');
    assert.equal(err.exitCode, 2);
    assert.ok(!err.message.includes('\n'), `one line: ${err.message}`);
    return err.message;
  }
  assert.fail('the config was accepted');
}

describe('meshgw.yaml', () => {
  it('accepts the repository config with the assignment defaults', async () => {
    const cfg = parseConfigText(await baseText(), 'meshgw.yaml');
    assert.deepEqual(cfg.gateway.throttle, { rate: 100, burst: 20 });
    assert.deepEqual(cfg.gateway.methodThrottles, [{ method: 'POST', path: '/orders', rate: 100, burst: 20 }]);
    const limited = cfg.gateway.usagePlans.find((p) => p.name === 'limited');
    assert.deepEqual(limited?.throttle, { rate: 10, burst: 5 });
    assert.deepEqual(cfg.services.orders.backends, ['users', 'products']);
    assert.equal(cfg.target, 'local');
  });

  it('fills defaults for a minimal config', () => {
    const cfg = parseConfigText('version: 1\nservices:\n  users: { pathPrefix: /users, requireApiKey: false }\n', 'm.yaml');
    assert.equal(cfg.mesh.trustDomain, 'cluster.local');
    assert.equal(cfg.mesh.namespace, 'meshgw');
    assert.equal(cfg.mesh.leafLifetimeHours, 24);
    assert.deepEqual(cfg.gateway.throttle, { rate: 100, burst: 20 });
  });

  it('names the file and field of a missing field', async () => {
    const text = (await baseText()).replace('    pathPrefix: /products\n', '');
    assert.match(refusal(text), /^meshgw\.yaml: services\.products\.pathPrefix: missing \(expected string\)$/);
  });

  it('names the field of a wrong type', async () => {
    const text = (await baseText()).replace('throttle: { rate: 100, burst: 20 }\n  methodThrottles', 'throttle: { rate: fast, burst: 20 }\n  methodThrottles');
    assert.match(refusal(text), /^meshgw\.yaml: gateway\.throttle\.rate: expected number, got string "fast"$/);
  });

  it('refuses a negative rate', async () => {
    const text = (await baseText()).replace('throttle: { rate: 10, burst: 5 }', 'throttle: { rate: -10, burst: 5 }');
    assert.match(refusal(text), /gateway\.usagePlans\.1\.throttle\.rate: expected a number greater than 0 \(got number -10\)/);
  });

  it('refuses an unknown service in a backend list', async () => {
    const text = (await baseText()).replace('backends: [users, products]', 'backends: [users, payments]');
    assert.match(refusal(text), /services\.orders\.backends\.1: unknown service "payments" \(known: users, products, orders\)/);
  });

  it('refuses an unknown field, naming it', async () => {
    const text = (await baseText()).replace('  namespace: meshgw\n', '  namespace: meshgw\n  namspace: typo\n');
    assert.match(refusal(text), /meshgw\.yaml: mesh: unknown field "namspace"/);
  });

  it('refuses a bad enum value, listing the choices', async () => {
    const text = (await baseText()).replace('target: local', 'target: gcp');
    assert.match(refusal(text), /target: expected one of "local", "aws", got string "gcp"/);
  });

  it('refuses invalid YAML with its line', () => {
    assert.match(refusal('version: 1\nservices: [\n'), /meshgw\.yaml: not valid YAML \(line \d+, column \d+\)/);
  });

  it('refuses a usage-plan API key listed twice', async () => {
    const text = (await baseText()).replace('apiKeys: [demo-limited]', 'apiKeys: [demo-standard]');
    assert.match(refusal(text), /gateway\.usagePlans\.1\.apiKeys\.0: API key "demo-standard" is already in usage plan "standard"/);
  });

  it('refuses a method throttle on a path no service serves', async () => {
    const text = (await baseText()).replace('{ method: POST, path: /orders,', '{ method: POST, path: /payments,');
    assert.match(refusal(text), /gateway\.methodThrottles\.0\.path: no service serves \/payments/);
  });

  it('refuses a second version', () => {
    assert.match(refusal('version: 2\nservices: {}\n'), /meshgw\.yaml: version: expected one of 1, got number 2/);
  });

  it('resolves --config before MESHGW_CONFIG before ./meshgw.yaml', () => {
    assert.equal(resolveConfigPath('a.yaml', { MESHGW_CONFIG: 'b.yaml' }, '/x'), '/x/a.yaml');
    assert.equal(resolveConfigPath(undefined, { MESHGW_CONFIG: 'b.yaml' }, '/x'), '/x/b.yaml');
    assert.equal(resolveConfigPath(undefined, {}, '/x'), '/x/meshgw.yaml');
  });
});

describe('topology', () => {
  it('derives identities and the authorization table from the config', async () => {
    const cfg = parseConfigText(await baseText(), 'meshgw.yaml');
    assert.equal(spiffeId(cfg, 'orders'), 'spiffe://cluster.local/ns/meshgw/sa/orders');
    assert.equal(principal(cfg, 'gateway'), 'cluster.local/ns/meshgw/sa/gateway');
    assert.deepEqual(authorizationTable(cfg), { users: ['gateway', 'orders'], products: ['gateway', 'orders'], orders: ['gateway'] });
    assert.equal(routeFor(cfg, '/orders/42'), 'orders');
    assert.equal(routeFor(cfg, '/ordersx'), undefined);
  });
});
