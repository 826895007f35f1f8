// POST /orders with an Idempotency-Key (draft-ietf-httpapi-idempotency-key-header; Stripe's behaviour
// for replays), through the real users, products and orders apps on 127.0.0.1, orders stored in a real
// SQLite file (the repository contract itself is tested on SQLite and moto's DynamoDB elsewhere).
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { type OrdersUnderTest, type ServiceUnderTest, type ShopUnderTest, startShop } from './fixtures.js';
import { call, fakeClock } from './helpers.js';

describe('POST /orders with an Idempotency-Key', () => {
  const clock = fakeClock();
  let users: ServiceUnderTest;
  let products: ServiceUnderTest;
  let orders: OrdersUnderTest;
  let shop: ShopUnderTest;
  let adaToken: string;
  let bobToken: string;

  async function tokenFor(username: string): Promise<string> {
    const password = `${username}-password`;
    assert.equal((await call('POST', `${users.url}/users`, { json: { username, password } })).status, 201);
    return (await call('POST', `${users.url}/users/login`, { json: { username, password } })).body.token as string;
  }

  function order(body: unknown, token: string, key?: string) {
    const headers: Record<string, string> = { authorization: `Bearer ${token}` };
    if (key !== undefined) headers['idempotency-key'] = key;
    return typeof body === 'string' ? call('POST', `${orders.url}/orders`, { raw: body, headers }) : call('POST', `${orders.url}/orders`, { json: body, headers });
  }

  before(async () => {
    shop = await startShop(clock);
    ({ users, products, orders } = shop);
    adaToken = await tokenFor('ada');
    bobToken = await tokenFor('bob');
  });
  after(() => shop.close());

  it('answers a retry with the same key and body with the original 201 and order, without asking products again', async () => {
    const first = await order({ productId: 'p-100', quantity: 2 }, adaToken, 'retry-1');
    assert.equal(first.status, 201);
    assert.equal(first.headers.get('idempotent-replayed'), null);
    const productCalls = products.log.lines.length;
    // Same request, other whitespace and field order: the same order.
    const again = await order('{ "quantity": 2,   "productId": "p-100" }', adaToken, 'retry-1');
    assert.equal(again.status, 201);
    assert.deepEqual(again.body, first.body);
    assert.equal(again.headers.get('location'), `/orders/${first.body.id}`);
    assert.equal(again.headers.get('idempotent-replayed'), 'true');
    assert.equal(products.log.lines.length, productCalls, 'the replay did not call products');
  });

  it('treats the quoted sf-string form of a key as the same key as its bare form', async () => {
    const bare = await order({ productId: 'p-101', quantity: 1 }, adaToken, 'quoted-1');
    const quoted = await order({ productId: 'p-101', quantity: 1 }, adaToken, '"quoted-1"');
    assert.equal(quoted.status, 201);
    assert.equal(quoted.body.id, bare.body.id);
  });

  it('refuses the same key with a different body with 422 JSON and creates nothing', async () => {
    const first = await order({ productId: 'p-100', quantity: 1 }, adaToken, 'reused-1');
    assert.equal(first.status, 201);
    const other = await order({ productId: 'p-100', quantity: 5 }, adaToken, 'reused-1');
    assert.equal(other.status, 422);
    assert.equal(other.body.error.code, 'idempotency_key_reused');
    assert.match(other.headers.get('content-type') ?? '', /application\/json/);
    // The key still answers with the first order.
    const replay = await order({ productId: 'p-100', quantity: 1 }, adaToken, 'reused-1');
    assert.equal(replay.body.id, first.body.id);
  });

  it('scopes a key to its user: another user with the same key gets an order of their own', async () => {
    const ada = await order({ productId: 'p-102', quantity: 1 }, adaToken, 'shared-key');
    const bob = await order({ productId: 'p-102', quantity: 1 }, bobToken, 'shared-key');
    assert.equal(bob.status, 201);
    assert.notEqual(bob.body.id, ada.body.id);
    assert.equal(bob.body.userId !== ada.body.userId, true);
  });

  it('creates one order for 10 concurrent requests with one key and answers all of them 201 with it', async () => {
    const answers = await Promise.all(Array.from({ length: 10 }, () => order({ productId: 'p-100', quantity: 4 }, adaToken, 'burst-1')));
    assert.deepEqual(answers.map((a) => a.status), Array(10).fill(201));
    assert.equal(new Set(answers.map((a) => a.body.id)).size, 1);
  });

  it('refuses a malformed key with 400 JSON', async () => {
    for (const bad of ['"unterminated', 'x'.repeat(256), '""', 'naïve-key']) {
      const res = await order({ productId: 'p-100', quantity: 1 }, adaToken, bad);
      assert.equal(res.status, 400, bad);
      assert.equal(res.body.error.code, 'invalid_idempotency_key');
    }
  });

  it('creates a new order for every request without a key, as before', async () => {
    const a = await order({ productId: 'p-100', quantity: 1 }, adaToken);
    const b = await order({ productId: 'p-100', quantity: 1 }, adaToken);
    assert.equal(a.status, 201);
    assert.notEqual(a.body.id, b.body.id);
  });
});
