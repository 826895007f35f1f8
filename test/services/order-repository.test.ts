// The OrderRepository contract (orders and their Idempotency-Keys), run unchanged on both backends:
// SQLite (better-sqlite3, a real file in a temp folder) and DynamoDB on moto's server
// (venvBin('moto_server')), whose table is created from the CloudFormation template's OrdersTable.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import type { Order } from '../../services/orders/order-repository.js';
import { type MotoServer, startMoto } from '../aws/moto-server.js';
import { orderBackends } from './repository-backends.js';

function anOrder(userId: string, quantity = 1): Order {
  return {
    id: `o-${randomUUID()}`,
    userId,
    productId: 'p-1',
    quantity,
    unitPrice: 1250,
    total: 1250 * quantity,
    currency: 'EUR',
    createdAt: new Date(Date.UTC(2026, 0, 1)).toISOString(),
  };
}

let moto: MotoServer | undefined;
const endpoint = () => {
  if (!moto) throw new Error('moto_server is not running');
  return moto.endpoint;
};

describe('OrderRepository', { timeout: 120_000 }, () => {
  before(async () => {
    moto = await startMoto(process.cwd());
  });
  after(() => moto?.stop());

  for (const backend of orderBackends(endpoint)) {
    describe(backend.name, () => {
      it('stores an order without a key and finds it by id', async () => {
        const { repo, cleanup } = await backend.open();
        try {
          const order = anOrder('u-1');
          assert.deepEqual(await repo.create(order), { type: 'created', order });
          assert.deepEqual(await repo.findById(order.id), order);
          assert.equal(await repo.findById(`o-${randomUUID()}`), undefined);
        } finally {
          await cleanup();
        }
      });

      it('stores an order with its key, and a second order under the same key is refused with the first one', async () => {
        const { repo, cleanup } = await backend.open();
        try {
          const first = anOrder('u-1');
          const second = anOrder('u-1', 2);
          assert.equal((await repo.create(first, { key: 'k-1', fingerprint: 'f-1' })).type, 'created');
          assert.deepEqual(await repo.findByIdempotencyKey('u-1', 'k-1'), { fingerprint: 'f-1', order: first });
          const retry = await repo.create(second, { key: 'k-1', fingerprint: 'f-2' });
          assert.deepEqual(retry, { type: 'key-exists', existing: { fingerprint: 'f-1', order: first } });
          assert.equal(await repo.findById(second.id), undefined, 'nothing of the refused order was written');
        } finally {
          await cleanup();
        }
      });

      it('scopes a key to its user: the same key of another user is another order', async () => {
        const { repo, cleanup } = await backend.open();
        try {
          const mine = anOrder('u-1');
          const theirs = anOrder('u-2');
          assert.equal((await repo.create(mine, { key: 'same', fingerprint: 'f' })).type, 'created');
          assert.equal((await repo.create(theirs, { key: 'same', fingerprint: 'f' })).type, 'created');
          assert.equal((await repo.findByIdempotencyKey('u-2', 'same'))?.order.id, theirs.id);
          assert.equal(await repo.findByIdempotencyKey('u-3', 'same'), undefined);
        } finally {
          await cleanup();
        }
      });

      it('creates exactly one order from 10 concurrent creates with one key, and tells the others which', async () => {
        const { repo, cleanup } = await backend.open();
        try {
          const attempts = Array.from({ length: 10 }, () => anOrder('u-1'));
          const outcomes = await Promise.all(attempts.map((o) => repo.create(o, { key: 'race', fingerprint: 'f' })));
          const created = outcomes.filter((o) => o.type === 'created');
          assert.equal(created.length, 1);
          const winner = created[0].order;
          for (const o of outcomes) if (o.type === 'key-exists') assert.equal(o.existing.order.id, winner.id);
          const stored = await Promise.all(attempts.map((o) => repo.findById(o.id)));
          assert.deepEqual(stored.filter(Boolean).map((o) => o?.id), [winner.id]);
        } finally {
          await cleanup();
        }
      });

      it('still has every order and key after it is closed and opened again', async () => {
        const opened = await backend.open();
        try {
          const orders = [anOrder('u-1'), anOrder('u-1', 3), anOrder('u-2')];
          for (const [i, o] of orders.entries()) await opened.repo.create(o, { key: `k-${i}`, fingerprint: `f-${i}` });
          const again = await opened.reopen();
          for (const [i, o] of orders.entries()) {
            assert.deepEqual(await again.findById(o.id), o);
            assert.deepEqual(await again.findByIdempotencyKey(o.userId, `k-${i}`), { fingerprint: `f-${i}`, order: o });
          }
        } finally {
          await opened.cleanup();
        }
      });
    });
  }
});
