import { openSqlite } from '../shared/sqlite.js';
import type { IdempotentRecord, Order, OrderRepository } from './order-repository.js';

const SCHEMA = `
CREATE TABLE IF NOT EXISTS orders (
  id TEXT PRIMARY KEY,
  user_id TEXT NOT NULL,
  product_id TEXT NOT NULL,
  quantity INTEGER NOT NULL,
  unit_price INTEGER NOT NULL,
  total INTEGER NOT NULL,
  currency TEXT NOT NULL,
  created_at TEXT NOT NULL
) STRICT;
CREATE TABLE IF NOT EXISTS idempotency_keys (
  user_id TEXT NOT NULL,
  key TEXT NOT NULL,
  fingerprint TEXT NOT NULL,
  order_id TEXT NOT NULL REFERENCES orders (id),
  PRIMARY KEY (user_id, key)
) STRICT, WITHOUT ROWID;
`;

interface OrderRow {
  id: string;
  user_id: string;
  product_id: string;
  quantity: number;
  unit_price: number;
  total: number;
  currency: string;
  created_at: string;
}

function toOrder(r: OrderRow): Order {
  return { id: r.id, userId: r.user_id, productId: r.product_id, quantity: r.quantity, unitPrice: r.unit_price, total: r.total, currency: r.currency, createdAt: r.created_at };
}

const ORDER_COLUMNS = 'o.id, o.user_id, o.product_id, o.quantity, o.unit_price, o.total, o.currency, o.created_at';

/** Orders and their idempotency keys in a SQLite file (see shared/sqlite.ts for the durability settings). */
export function openSqliteOrderRepository(file: string): OrderRepository {
  const db = openSqlite(file, SCHEMA);
  const insertOrder = db.prepare<[string, string, string, number, number, number, string, string]>(
    'INSERT INTO orders (id, user_id, product_id, quantity, unit_price, total, currency, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)',
  );
  const insertKey = db.prepare<[string, string, string, string]>('INSERT INTO idempotency_keys (user_id, key, fingerprint, order_id) VALUES (?, ?, ?, ?)');
  const byKey = db.prepare<[string, string], OrderRow & { fingerprint: string }>(
    `SELECT k.fingerprint, ${ORDER_COLUMNS} FROM idempotency_keys k JOIN orders o ON o.id = k.order_id WHERE k.user_id = ? AND k.key = ?`,
  );
  const byId = db.prepare<[string], OrderRow>(`SELECT ${ORDER_COLUMNS} FROM orders o WHERE o.id = ?`);
  const findByKey = (userId: string, key: string): IdempotentRecord | undefined => {
    const row = byKey.get(userId, key);
    return row && { fingerprint: row.fingerprint, order: toOrder(row) };
  };
  // One transaction: the key and its order are committed (and fsynced) together or not at all.
  const create = db.transaction((order: Order, key?: string, fingerprint?: string) => {
    if (key !== undefined) {
      const existing = findByKey(order.userId, key);
      if (existing) return { type: 'key-exists' as const, existing };
    }
    insertOrder.run(order.id, order.userId, order.productId, order.quantity, order.unitPrice, order.total, order.currency, order.createdAt);
    if (key !== undefined && fingerprint !== undefined) insertKey.run(order.userId, key, fingerprint, order.id);
    return { type: 'created' as const, order };
  });
  return {
    // IMMEDIATE takes the write lock before the check, so no other connection can slip in between.
    create: async (order, idem) => create.immediate(order, idem?.key, idem?.fingerprint),
    findByIdempotencyKey: async (userId, key) => findByKey(userId, key),
    findById: async (id) => {
      const row = byId.get(id);
      return row && toOrder(row);
    },
    close: async () => void db.close(),
  };
}
