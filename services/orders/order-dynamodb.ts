import { GetCommand, PutCommand, TransactWriteCommand } from '@aws-sdk/lib-dynamodb';
import { cancellationCodes, type DocumentClient } from '../shared/dynamodb.js';
import type { IdempotentRecord, Order, OrderRepository } from './order-repository.js';

const ABSENT = 'attribute_not_exists(pk)';

function orderOf(item: Record<string, unknown>): Order {
  return {
    id: String(item.id),
    userId: String(item.userId),
    productId: String(item.productId),
    quantity: Number(item.quantity),
    unitPrice: Number(item.unitPrice),
    total: Number(item.total),
    currency: String(item.currency),
    createdAt: String(item.createdAt),
  };
}

/**
 * Orders in one DynamoDB table keyed by the string `pk` (templates/meshgw-stack.yaml, OrdersTable):
 * `order#<id>` holds an order; `idem#<userId>#<key>` holds an Idempotency-Key with its request's
 * fingerprint and a copy of the order it created. An order with a key is written with its key in
 * one TransactWriteItems, each item only if absent, so a retry can never make a second order.
 */
export function createDynamoOrderRepository(client: DocumentClient, tableName: string): OrderRepository {
  // User ids never contain '#', so the key's own characters cannot make two pairs collide.
  const keyPk = (userId: string, key: string) => `idem#${userId}#${key}`;
  async function get(pk: string): Promise<Record<string, unknown> | undefined> {
    const { Item } = await client.send(new GetCommand({ TableName: tableName, Key: { pk }, ConsistentRead: true }));
    return Item;
  }
  async function findByKey(userId: string, key: string): Promise<IdempotentRecord | undefined> {
    const item = await get(keyPk(userId, key));
    return item && { fingerprint: String(item.fingerprint), order: orderOf(item.order as Record<string, unknown>) };
  }
  return {
    async create(order, idem) {
      const orderItem = { pk: `order#${order.id}`, ...order };
      if (!idem) {
        await client.send(new PutCommand({ TableName: tableName, Item: orderItem, ConditionExpression: ABSENT }));
        return { type: 'created', order };
      }
      const keyItem = { pk: keyPk(order.userId, idem.key), fingerprint: idem.fingerprint, orderId: order.id, order };
      try {
        await client.send(
          new TransactWriteCommand({
            TransactItems: [
              { Put: { TableName: tableName, Item: keyItem, ConditionExpression: ABSENT } },
              { Put: { TableName: tableName, Item: orderItem, ConditionExpression: ABSENT } },
            ],
          }),
        );
        return { type: 'created', order };
      } catch (err) {
        if (cancellationCodes(err)?.[0] !== 'ConditionalCheckFailed') throw err;
        const existing = await findByKey(order.userId, idem.key);
        if (!existing) throw err;
        return { type: 'key-exists', existing };
      }
    },
    findByIdempotencyKey: findByKey,
    findById: async (id) => {
      const item = await get(`order#${id}`);
      return item && orderOf(item);
    },
    close: async () => client.destroy(),
  };
}
