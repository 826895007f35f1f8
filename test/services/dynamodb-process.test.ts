// The users and orders processes as they run in a pod (dist/services/*/main.js with DYNAMODB_TABLE),
// storing in moto's DynamoDB server (venvBin('moto_server')) through the SDK's own endpoint setting,
// on tables made from the CloudFormation template's properties; both are SIGKILLed and started again.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { type MotoServer, startMoto } from '../aws/moto-server.js';
import { type AppProcess, startApp } from './app-process.js';
import { MOTO_REGION, createMotoTable } from './dynamodb-tables.js';
import { TOKEN_SECRET } from './fixtures.js';

async function json(method: string, url: string, body?: unknown, headers: Record<string, string> = {}): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await fetch(url, {
    method,
    headers: { ...(body === undefined ? {} : { 'content-type': 'application/json' }), ...headers },
    body: body === undefined ? undefined : JSON.stringify(body),
    signal: AbortSignal.timeout(10_000),
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

describe('users and orders on DynamoDB', { timeout: 120_000 }, () => {
  let moto: MotoServer;
  const running: AppProcess[] = [];
  before(async () => {
    moto = await startMoto(process.cwd());
  });
  after(async () => {
    for (const app of running) await app.kill('SIGKILL');
    await moto.stop();
  });

  async function start(name: string, env: Record<string, string>): Promise<AppProcess> {
    const app = await startApp(name, env);
    running.push(app);
    return app;
  }

  it('keeps users and keyed orders in their tables across a SIGKILL of both apps', async () => {
    const tables = { users: `users-${randomUUID().slice(0, 8)}`, orders: `orders-${randomUUID().slice(0, 8)}` };
    await createMotoTable(moto.endpoint, 'UsersTable', tables.users);
    await createMotoTable(moto.endpoint, 'OrdersTable', tables.orders);
    // What a pod has: a region and credentials from the environment (Pod Identity's, there); here
    // moto's endpoint through the SDK's service-specific endpoint variable.
    const aws = { AWS_REGION: MOTO_REGION, AWS_ACCESS_KEY_ID: 'testing', AWS_SECRET_ACCESS_KEY: 'testing', AWS_ENDPOINT_URL_DYNAMODB: moto.endpoint, AWS_EC2_METADATA_DISABLED: 'true' };
    const usersEnv = { ...aws, TOKEN_SECRET, DYNAMODB_TABLE: tables.users };
    let users = await start('users', usersEnv);
    const products = await start('products', {});
    const ordersEnv = () => ({ ...aws, USERS_URL: users.url, PRODUCTS_URL: products.url, DYNAMODB_TABLE: tables.orders });
    let orders = await start('orders', ordersEnv());

    assert.equal((await json('POST', `${users.url}/users`, { username: 'cloud', password: 'cloud-password' })).status, 201);
    const login = await json('POST', `${users.url}/users/login`, { username: 'cloud', password: 'cloud-password' });
    const auth = { authorization: `Bearer ${String(login.body.token)}` };
    const created = await json('POST', `${orders.url}/orders`, { productId: 'p-100', quantity: 3 }, { ...auth, 'idempotency-key': 'pod-1' });
    assert.equal(created.status, 201);

    await Promise.all([users.kill('SIGKILL'), orders.kill('SIGKILL')]);
    users = await start('users', usersEnv);
    orders = await start('orders', ordersEnv());

    assert.equal((await json('POST', `${users.url}/users`, { username: 'cloud', password: 'other-password' })).status, 409);
    const again = await json('POST', `${users.url}/users/login`, { username: 'cloud', password: 'cloud-password' });
    assert.equal(again.status, 200);
    const auth2 = { authorization: `Bearer ${String(again.body.token)}` };
    const got = await json('GET', `${orders.url}/orders/${String(created.body.id)}`, undefined, auth2);
    assert.deepEqual(got, { status: 200, body: created.body });
    const replay = await json('POST', `${orders.url}/orders`, { productId: 'p-100', quantity: 3 }, { ...auth2, 'idempotency-key': 'pod-1' });
    assert.deepEqual(replay, { status: 201, body: created.body });
    const reused = await json('POST', `${orders.url}/orders`, { productId: 'p-100', quantity: 4 }, { ...auth2, 'idempotency-key': 'pod-1' });
    assert.equal(reused.status, 422);
  });
});
