// Which API Gateway method a request is served by, and so which bucket throttles it. No AWS runs
// here: the reference for the resource tree is the aws target's own template renderer
// (src/aws/template-api.ts), and the matching rules are API Gateway's documented ones (a literal
// resource before {proxy+}, an explicit verb before ANY).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { renderApi } from '../../src/aws/template-api.js';
import { configSchema } from '../../src/config/schema.js';
import { ApiMethodTable, declaredMethodIds } from '../../src/gateway/api-methods.js';

const config = configSchema.parse({
  version: 1,
  services: { users: { pathPrefix: '/users' }, orders: { pathPrefix: '/orders', backends: ['users'] } },
  gateway: {
    throttle: { rate: 40, burst: 8 },
    methodThrottles: [
      { method: 'POST', path: '/orders', rate: 10, burst: 2 },
      { method: 'PUT', path: '/orders/checkout/confirm', rate: 3, burst: 1 },
    ],
    usagePlans: [{ name: 'standard', throttle: { rate: 100, burst: 20 }, apiKeys: ['demo-standard'] }],
  },
});

// Every request shape the services see: roots, sub-paths, literal resources and their children.
const REQUESTS: Array<[string, string, string]> = [
  ['POST', '/orders', 'POST /orders'],
  ['GET', '/orders', 'ANY /orders'],
  ['DELETE', '/orders', 'ANY /orders'],
  ['POST', '/orders/42', 'ANY /orders/{proxy+}'],
  ['GET', '/orders/42/items', 'ANY /orders/{proxy+}'],
  ['PUT', '/orders/checkout', 'ANY /orders/checkout'],
  ['PUT', '/orders/checkout/confirm', 'PUT /orders/checkout/confirm'],
  ['GET', '/orders/checkout/confirm', 'ANY /orders/checkout/confirm'],
  ['PUT', '/orders/checkout/confirm/1', 'ANY /orders/{proxy+}'],
  ['GET', '/users', 'ANY /users'],
  ['POST', '/users/login', 'ANY /users/{proxy+}'],
];

describe('API Gateway methods', () => {
  it('resolves each request to the method API Gateway would pick: a literal resource, then {proxy+}; an explicit verb, then ANY', () => {
    const table = new ApiMethodTable(config.gateway);
    for (const [verb, path, id] of REQUESTS) assert.equal(table.resolve(verb, path).id, id, `${verb} ${path}`);
  });

  it('gives a method with an override that override, and every other method the stage default', () => {
    const table = new ApiMethodTable(config.gateway);
    assert.deepEqual(pick(table.resolve('POST', '/orders')), { rate: 10, burst: 2 });
    assert.deepEqual(pick(table.resolve('PUT', '/orders/checkout/confirm')), { rate: 3, burst: 1 });
    assert.deepEqual(pick(table.resolve('GET', '/orders')), { rate: 40, burst: 8 });
    assert.deepEqual(pick(table.resolve('POST', '/orders/42')), { rate: 40, burst: 8 }, 'an override of POST /orders does not reach POST /orders/42');
    assert.equal(table.resolve('POST', '/orders/7'), table.resolve('GET', '/orders/8'), 'one ANY method, one bucket, whatever the verb');
  });

  it('declares exactly the methods the aws template renders, and resolves only to those', () => {
    const rendered = renderApi(config, 'test-target').methods.map((m) => `${m.httpMethod} ${m.resourcePath}`);
    const declared = declaredMethodIds(['/users', '/orders'], config.gateway);
    assert.deepEqual([...declared].sort(), [...rendered].sort());
    const table = new ApiMethodTable(config.gateway);
    for (const [verb, path] of REQUESTS) assert.ok(rendered.includes(table.resolve(verb, path).id), `${verb} ${path} resolves to a rendered method`);
    // The stage method settings name exactly the methods that carry an override.
    const settings = renderApi(config, 'test-target').methodSettings as Array<{ ResourcePath: string; HttpMethod: string; ThrottlingRateLimit: number }>;
    for (const s of settings) {
      const path = s.ResourcePath.slice(1).replaceAll('~1', '/');
      assert.equal(table.resolve(s.HttpMethod, path).rate, s.ThrottlingRateLimit, `${s.HttpMethod} ${path}`);
    }
  });
});

function pick(m: { rate: number; burst: number }): { rate: number; burst: number } {
  return { rate: m.rate, burst: m.burst };
}
