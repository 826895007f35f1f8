/** An order as the API shows it; money in integer cents of `currency`. */
export interface Order {
  id: string;
  userId: string;
  productId: string;
  quantity: number;
  unitPrice: number;
  total: number;
  currency: string;
  createdAt: string;
}

/** A client's Idempotency-Key for one POST /orders, scoped to the user who sent it. */
export interface IdempotencyClaim {
  key: string;
  /** A digest of the request it was first used with (idempotency.ts). */
  fingerprint: string;
}

/** What an earlier request with the same key left behind. */
export interface IdempotentRecord {
  fingerprint: string;
  order: Order;
}

export type CreateOutcome =
  /** Stored now, with its key when one was given. */
  | { type: 'created'; order: Order }
  /** The key was already used by this user (a concurrent or earlier request won): nothing was written. */
  | { type: 'key-exists'; existing: IdempotentRecord };

/**
 * Where orders live: SQLite locally (order-sqlite.ts), DynamoDB on aws (order-dynamodb.ts). Both
 * pass the same contract tests (test/services/order-repository.test.ts).
 */
export interface OrderRepository {
  /** Stores the order and its key together (one transaction), unless the key is already taken. */
  create(order: Order, idempotency?: IdempotencyClaim): Promise<CreateOutcome>;
  findByIdempotencyKey(userId: string, key: string): Promise<IdempotentRecord | undefined>;
  findById(id: string): Promise<Order | undefined>;
  close(): Promise<void>;
}
