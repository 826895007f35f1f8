import assert from 'node:assert/strict';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { after, before, describe, it } from 'node:test';
import { type OrdersUnderTest, type ServiceUnderTest, type ShopUnderTest, startOrders, startShop, startUsers } from './fixtures.js';
import { type Running, call, closedPort, fakeClock, serve } from './helpers.js';

const TRACE_ID = '0af7651916cd43dd8448eb211c80319c';

describe('orders service wired to real users and products', () => {
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
    const res = await call('POST', `${users.url}/users/login`, { json: { username, password } });
    assert.equal(res.status, 200);
    return res.body.token as string;
  }

  function order(json: unknown, token: string | undefined, headers: Record<string, string> = {}) {
    const auth: Record<string, string> = token ? { authorization: `Bearer ${token}` } : {};
    return call('POST', `${orders.url}/orders`, { json, headers: { ...auth, ...headers } });
  }

  before(async () => {
    shop = await startShop(clock);
    ({ users, products, orders } = shop);
    adaToken = await tokenFor('ada');
    bobToken = await tokenFor('bob');
  });
  after(() => shop.close());

  it('logs in, lists products and creates an order priced from the catalogue', async () => {
    const listed = await call('GET', `${products.url}/products`);
    const product = listed.body.products[1];
    const res = await order({ productId: product.id, quantity: 3 }, adaToken);
    assert.equal(res.status, 201);
    const me = await call('GET', `${users.url}/users/me`, { headers: { authorization: `Bearer ${adaToken}` } });
    assert.deepEqual({ ...res.body, id: 'x' }, {
      id: 'x',
      userId: me.body.id,
      productId: product.id,
      quantity: 3,
      unitPrice: product.price,
      total: product.price * 3,
      currency: product.currency,
      createdAt: new Date(clock.now()).toISOString(),
    });
    assert.equal(res.headers.get('location'), `/orders/${res.body.id}`);
  });

  it('carries the trace and request id to users and products', async () => {
    const seen = { users: users.log.lines.length, products: products.log.lines.length };
    const res = await order({ productId: 'p-100', quantity: 1 }, adaToken, {
      traceparent: `00-${TRACE_ID}-b7ad6b7169203331-01`,
      'x-request-id': 'req-trace-1',
    });
    assert.equal(res.status, 201);
    const [u] = users.log.json().slice(seen.users);
    const [p] = products.log.json().slice(seen.products);
    assert.deepEqual([u.path, u.traceId, u.requestId], ['/users/me', TRACE_ID, 'req-trace-1']);
    assert.deepEqual([p.path, p.traceId, p.requestId], ['/products/p-100', TRACE_ID, 'req-trace-1']);
    const [o] = orders.log.json().slice(-1);
    assert.deepEqual([o.path, o.status, o.traceId, o.requestId], ['/orders', 201, TRACE_ID, 'req-trace-1']);
  });

  it('shows an order to its owner and answers 404 to anyone else', async () => {
    const created = await order({ productId: 'p-102', quantity: 2 }, adaToken);
    const url = `${orders.url}/orders/${created.body.id}`;
    const mine = await call('GET', url, { headers: { authorization: `Bearer ${adaToken}` } });
    assert.equal(mine.status, 200);
    assert.deepEqual(mine.body, created.body);
    const theirs = await call('GET', url, { headers: { authorization: `Bearer ${bobToken}` } });
    assert.equal(theirs.status, 404);
    assert.equal(theirs.body.error.code, 'order_not_found');
    const anonymous = await call('GET', url);
    assert.equal(anonymous.status, 401);
  });

  it('refuses an order without a token with 401 and does not ask users', async () => {
    const before = users.log.lines.length;
    const res = await order({ productId: 'p-100', quantity: 1 }, undefined);
    assert.equal(res.status, 401);
    assert.equal(res.headers.get('www-authenticate'), 'Bearer');
    assert.equal(users.log.lines.length, before);
  });

  it('refuses an order with a forged token with 401 because users said 401', async () => {
    const [h, , s] = adaToken.split('.');
    const payload = Buffer.from(JSON.stringify({ sub: 'u-x', name: 'mallory', iat: 1, exp: 9e9 })).toString('base64url');
    const before = users.log.lines.length;
    const res = await order({ productId: 'p-100', quantity: 1 }, `${h}.${payload}.${s}`);
    assert.equal(res.status, 401);
    assert.equal(res.headers.get('www-authenticate'), 'Bearer error="invalid_token"');
    assert.equal(users.log.json().slice(before)[0].status, 401);
  });

  it('refuses an order with an expired token with 401', async () => {
    const login = await call('POST', `${users.url}/users/login`, { json: { username: 'ada', password: 'ada-password', ttlSeconds: 5 } });
    clock.advance(5_000);
    const res = await order({ productId: 'p-100', quantity: 1 }, login.body.token);
    assert.equal(res.status, 401);
  });

  it('refuses a malformed order with 400 naming the field', async () => {
    const cases: [unknown, RegExp][] = [
      [{ productId: 'p-100', quantity: 0 }, /^quantity: expected at least 1$/],
      [{ productId: 'p-100', quantity: 1001 }, /^quantity: expected at most 1000$/],
      [{ productId: 'p-100', quantity: 1.5 }, /^quantity: expected a whole number$/],
      [{ productId: 'p-100', quantity: '2' }, /^quantity: expected a number$/],
      [{ productId: 100, quantity: 1 }, /^productId: expected a string$/],
    ];
    for (const [json, message] of cases) {
      const res = await order(json, adaToken);
      assert.equal(res.status, 400, JSON.stringify(json));
      assert.match(res.body.error.message, message);
    }
    const invalid = await call('POST', `${orders.url}/orders`, { raw: 'nope', headers: { authorization: `Bearer ${adaToken}` } });
    assert.equal(invalid.status, 400);
    assert.equal(invalid.body.error.code, 'invalid_json');
  });

  it('answers 422 for a product the catalogue does not have', async () => {
    const res = await order({ productId: 'p-999', quantity: 1 }, adaToken);
    assert.equal(res.status, 422);
    assert.deepEqual(res.body, { error: { code: 'unknown_product', message: 'unknown product "p-999"' } });
  });
});

describe('orders when a backend fails', () => {
  const clock = fakeClock();
  let users: ServiceUnderTest;
  const fakes: Running[] = [];
  const started: OrdersUnderTest[] = [];
  let token: string;

  before(async () => {
    users = await startUsers(clock);
    await call('POST', `${users.url}/users`, { json: { username: 'ada', password: 'ada-password' } });
    token = (await call('POST', `${users.url}/users/login`, { json: { username: 'ada', password: 'ada-password' } })).body.token;
  });
  after(async () => {
    for (const o of started) await o.close();
    for (const f of fakes) await f.close();
    await users.close();
  });

  async function fakeBackend(handler: (req: IncomingMessage, res: ServerResponse) => void): Promise<string> {
    const running = await serve(handler);
    fakes.push(running);
    return running.url;
  }

  async function orderThrough(backends: { usersUrl?: string; productsUrl: string; backendTimeoutMs?: number }) {
    const orders = await startOrders(clock, { usersUrl: backends.usersUrl ?? users.url, ...backends });
    started.push(orders);
    const res = await call('POST', `${orders.url}/orders`, {
      json: { productId: 'p-100', quantity: 1 },
      headers: { authorization: `Bearer ${token}` },
    });
    return { res, orders };
  }

  it('answers 502 when products answers 500, and logs the cause without showing it', async () => {
    const productsUrl = await fakeBackend((_req, res) => {
      res.statusCode = 500;
      res.end('{"error":"disk on fire"}');
    });
    const { res, orders } = await orderThrough({ productsUrl });
    assert.equal(res.status, 502);
    assert.equal(res.body.error.code, 'backend_error');
    assert.doesNotMatch(JSON.stringify(res.body), /disk on fire/);
    const [line] = orders.errors.json();
    assert.equal(line.status, 502);
    assert.match(String(line.cause), /products answered status 500/);
  });

  it('answers 502 when products answers 200 with a body that is not JSON', async () => {
    const productsUrl = await fakeBackend((_req, res) => res.end('<html>surprise</html>'));
    const { res } = await orderThrough({ productsUrl });
    assert.equal(res.status, 502);
  });

  it('answers 502 when users answers 200 with JSON of the wrong shape', async () => {
    const usersUrl = await fakeBackend((_req, res) => res.end('{"who":"knows"}'));
    const { res } = await orderThrough({ usersUrl, productsUrl: 'http://127.0.0.1:9' });
    assert.equal(res.status, 502);
    assert.match(res.body.error.message, /^users /);
  });

  it('answers 503 when users is unreachable', async () => {
    const port = await closedPort();
    const { res, orders } = await orderThrough({ usersUrl: `http://127.0.0.1:${port}`, productsUrl: 'http://127.0.0.1:9' });
    assert.equal(res.status, 503);
    assert.deepEqual(res.body, { error: { code: 'backend_unreachable', message: 'users is unreachable' } });
    assert.match(String(orders.errors.json()[0].cause), /ECONNREFUSED/);
  });

  it('answers 503 when products is unreachable', async () => {
    const { res } = await orderThrough({ productsUrl: `http://127.0.0.1:${await closedPort()}` });
    assert.equal(res.status, 503);
    assert.equal(res.body.error.message, 'products is unreachable');
  });

  it('answers 504 when products does not answer within the backend timeout', async () => {
    let held: ServerResponse | undefined;
    const productsUrl = await fakeBackend((_req, res) => {
      held = res;
    });
    const { res } = await orderThrough({ productsUrl, backendTimeoutMs: 150 });
    assert.equal(res.status, 504);
    assert.equal(res.body.error.code, 'backend_timeout');
    assert.ok(held, 'products received the call');
  });
});
