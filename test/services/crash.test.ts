// Durability under SIGKILL, with the real users, products and orders processes (dist/services/*/main.js)
// keeping their data in real SQLite files, as `meshgw up` runs them: orders is killed in the middle of
// a load of keyed POST /orders and started again on the same DATA_DIR, as the supervisor restarts it.
import assert from 'node:assert/strict';
import Database from 'better-sqlite3';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Agent } from 'undici';
import { type AppProcess, startApp } from './app-process.js';
import { TOKEN_SECRET } from './fixtures.js';

const ORDERS = 240;
const CONCURRENCY = 16;
// SIGKILL once this many orders were answered: the rest of the load meets a dead and then a new process.
const KILL_AFTER = 80;

type Outcome = { type: 'created'; id: string; replayed: boolean } | { type: 'unanswered'; detail: string } | { type: 'refused'; status: number; body: string };

interface JsonAnswer {
  status: number;
  headers: Headers;
  body: Record<string, unknown>;
}

async function post(url: string, body: unknown, headers: Record<string, string>, dispatcher: Agent): Promise<JsonAnswer> {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify(body),
    signal: AbortSignal.timeout(10_000),
    // @ts-expect-error undici's dispatcher option, which Node's fetch accepts
    dispatcher,
  });
  return { status: res.status, headers: res.headers, body: (await res.json()) as Record<string, unknown> };
}

async function placeOrder(ordersUrl: string, token: string, key: string, quantity: number, dispatcher: Agent): Promise<Outcome> {
  try {
    const res = await post(`${ordersUrl}/orders`, { productId: 'p-100', quantity }, { authorization: `Bearer ${token}`, 'idempotency-key': key }, dispatcher);
    if (res.status === 201) return { type: 'created', id: String(res.body.id), replayed: res.headers.get('idempotent-replayed') === 'true' };
    return { type: 'refused', status: res.status, body: JSON.stringify(res.body) };
  } catch (err) {
    // A connection reset, refused or cut mid-answer: the client cannot know whether the order was made.
    return { type: 'unanswered', detail: String((err as Error).cause ?? err) };
  }
}

describe('users and orders after SIGKILL', { timeout: 180_000 }, () => {
  let dir: string;
  const running: AppProcess[] = [];
  let users: AppProcess;
  let products: AppProcess;
  const usersEnv = () => ({ TOKEN_SECRET, DATA_DIR: path.join(dir, 'users') });

  async function start(name: string, env: Record<string, string>): Promise<AppProcess> {
    const app = await startApp(name, env);
    running.push(app);
    return app;
  }

  async function tokenFor(usersUrl: string, username: string, dispatcher: Agent): Promise<string> {
    const res = await post(`${usersUrl}/users/login`, { username, password: `${username}-password` }, {}, dispatcher);
    assert.equal(res.status, 200, JSON.stringify(res.body));
    return String(res.body.token);
  }

  before(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'meshgw-crash-'));
    users = await start('users', usersEnv());
    products = await start('products', {});
  });
  after(async () => {
    for (const app of running) await app.kill('SIGKILL');
    await rm(dir, { recursive: true, force: true });
  });

  it('keeps every registered user across a SIGKILL: login works, the username stays taken', async () => {
    const dispatcher = new Agent();
    try {
      const registered = await post(`${users.url}/users`, { username: 'survivor', password: 'survivor-password' }, {}, dispatcher);
      assert.equal(registered.status, 201);
      await users.kill('SIGKILL');
      users = await start('users', usersEnv());
      await tokenFor(users.url, 'survivor', dispatcher);
      const again = await post(`${users.url}/users`, { username: 'survivor', password: 'another-password' }, {}, dispatcher);
      assert.equal(again.status, 409);
      const me = await fetch(`${users.url}/users/me`, { headers: { authorization: `Bearer ${await tokenFor(users.url, 'survivor', dispatcher)}` } });
      assert.equal(((await me.json()) as { id: string }).id, registered.body.id);
    } finally {
      await dispatcher.close();
    }
  });

  it('has every order answered 201 exactly once after orders is SIGKILLed mid-load and retried with the same keys', async (t) => {
    const dispatcher = new Agent({ connections: CONCURRENCY });
    try {
      assert.equal((await post(`${users.url}/users`, { username: 'buyer', password: 'buyer-password' }, {}, dispatcher)).status, 201);
      const token = await tokenFor(users.url, 'buyer', dispatcher);
      const ordersEnv = { USERS_URL: users.url, PRODUCTS_URL: products.url, DATA_DIR: path.join(dir, 'orders') };
      let orders = await start('orders', ordersEnv);
      // Each key has its own quantity, so a replay answered with another key's order would show.
      const keys = Array.from({ length: ORDERS }, (_, i) => ({ key: `crash-${i}`, quantity: (i % 50) + 1 }));
      const first = new Map<string, Outcome>();
      let answered = 0;
      let killed: Promise<void> | undefined;
      let next = 0;
      const ordersUrl = orders.url;
      await Promise.all(
        Array.from({ length: CONCURRENCY }, async () => {
          while (next < keys.length) {
            const { key, quantity } = keys[next++];
            const outcome = await placeOrder(ordersUrl, token, key, quantity, dispatcher);
            first.set(key, outcome);
            if (outcome.type === 'created' && ++answered === KILL_AFTER) killed = orders.kill('SIGKILL');
          }
        }),
      );
      await killed;
      const unanswered = [...first].filter(([, o]) => o.type === 'unanswered').map(([k]) => k);
      assert.ok(unanswered.length > 0, 'the kill left requests unanswered (else it proved nothing)');
      assert.deepEqual([...first.values()].filter((o) => o.type === 'refused'), [], 'no order was refused');

      // The supervisor's part: the same app, the same data folder.
      orders = await start('orders', ordersEnv);
      const retried = new Map<string, Outcome>();
      for (const key of unanswered) {
        const quantity = keys.find((k) => k.key === key)!.quantity;
        retried.set(key, await placeOrder(orders.url, token, key, quantity, dispatcher));
      }
      assert.deepEqual([...retried.values()].filter((o) => o.type !== 'created'), [], 'every retry is answered 201');
      // Made before the kill but never answered: the retry finds them by key instead of making them twice.
      const madeButUnanswered = [...retried.values()].filter((o) => o.type === 'created' && o.replayed).length;
      t.diagnostic(`answered before the kill: ${answered}, unanswered: ${unanswered.length}, of which already stored (replayed on retry): ${madeButUnanswered}`);

      // Every key now has exactly one order: a second pass replays each with the id first answered.
      const answeredId = new Map<string, string>();
      for (const [key, o] of [...first, ...retried]) if (o.type === 'created') answeredId.set(key, o.id);
      assert.equal(answeredId.size, ORDERS);
      for (const { key, quantity } of keys) {
        const replay = await placeOrder(orders.url, token, key, quantity, dispatcher);
        assert.deepEqual(replay, { type: 'created', id: answeredId.get(key), replayed: true }, key);
        const got = await fetch(`${orders.url}/orders/${answeredId.get(key)}`, { headers: { authorization: `Bearer ${token}` } });
        assert.equal(got.status, 200);
        assert.equal(((await got.json()) as { quantity: number }).quantity, quantity);
      }
      await orders.kill('SIGTERM');
      // And in the file itself: one order per key, no order without its key.
      const db = new Database(path.join(dir, 'orders', 'orders.sqlite'), { readonly: true });
      try {
        assert.equal((db.prepare('SELECT count(*) AS n FROM orders').get() as { n: number }).n, ORDERS);
        assert.equal((db.prepare('SELECT count(*) AS n FROM idempotency_keys').get() as { n: number }).n, ORDERS);
      } finally {
        db.close();
      }
    } finally {
      await dispatcher.close();
    }
  });
});
