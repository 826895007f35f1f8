// meshgw.yaml's gateway.methodThrottles, parsed by the real loader: each entry becomes one API
// Gateway method with one stage method setting, so a path must name a resource exactly and a
// method may be listed once.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseConfigText } from '../../src/config/load.js';
import { MeshgwError } from '../../src/errors.js';

function configWith(methodThrottles: string): string {
  return `version: 1
services:
  orders: { pathPrefix: /orders, requireApiKey: false }
gateway:
  methodThrottles:
${methodThrottles}
`;
}

function refusal(text: string): string {
  try {
    parseConfigText(text, 'meshgw.yaml');
  } catch (err) {
    assert.ok(err instanceof MeshgwError);
    assert.equal(err.exitCode, 2);
    return err.message;
  }
  assert.fail('the config was accepted');
}

describe('gateway.methodThrottles', () => {
  it('accepts a service root and a literal path below it', () => {
    const cfg = parseConfigText(configWith('    - { method: POST, path: /orders, rate: 10, burst: 2 }\n    - { method: PUT, path: /orders/checkout, rate: 1, burst: 1 }'), 'meshgw.yaml');
    assert.deepEqual(cfg.gateway.methodThrottles.map((m) => m.path), ['/orders', '/orders/checkout']);
  });

  it('refuses a path with an empty segment, which would name no API Gateway resource', () => {
    for (const p of ['/orders/', '/orders//checkout', '/']) {
      assert.match(refusal(configWith(`    - { method: POST, path: "${p}", rate: 10, burst: 2 }`)), /gateway\.methodThrottles\.0\.path: expected a path such as \/orders or \/orders\/checkout/, p);
    }
  });

  it('refuses the same method and path listed twice', () => {
    const text = configWith('    - { method: POST, path: /orders, rate: 10, burst: 2 }\n    - { method: POST, path: /orders, rate: 20, burst: 4 }');
    assert.match(refusal(text), /gateway\.methodThrottles\.1: POST \/orders is listed twice/);
  });
});
