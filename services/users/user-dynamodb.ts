import { GetCommand, TransactWriteCommand } from '@aws-sdk/lib-dynamodb';
import { cancellationCodes, type DocumentClient } from '../shared/dynamodb.js';
import type { UserRecord, UserRepository } from './user-repository.js';

/**
 * Users in one DynamoDB table keyed by the string `pk` (templates/meshgw-stack.yaml, UsersTable).
 * Each user is two items written in one transaction, each only if absent: `user#<id>` (for
 * /users/me) and `username#<name>` (for login, and what makes a username unique). Both hold the
 * whole record, so each lookup is one strongly consistent GetItem: a user can log in the moment
 * registration answered 201, which a GSI (eventually consistent) would not promise.
 */
export function createDynamoUserRepository(client: DocumentClient, tableName: string): UserRepository {
  const toItem = (pk: string, u: UserRecord) => ({ pk, id: u.id, username: u.username, salt: u.password.salt, hash: u.password.hash, cost: u.password.cost });
  async function get(pk: string): Promise<UserRecord | undefined> {
    const { Item } = await client.send(new GetCommand({ TableName: tableName, Key: { pk }, ConsistentRead: true }));
    if (!Item) return undefined;
    return { id: String(Item.id), username: String(Item.username), password: { salt: Buffer.from(Item.salt as Uint8Array), hash: Buffer.from(Item.hash as Uint8Array), cost: Number(Item.cost) } };
  }
  return {
    async insert(user) {
      const absent = 'attribute_not_exists(pk)';
      try {
        await client.send(
          new TransactWriteCommand({
            TransactItems: [
              { Put: { TableName: tableName, Item: toItem(`username#${user.username}`, user), ConditionExpression: absent } },
              { Put: { TableName: tableName, Item: toItem(`user#${user.id}`, user), ConditionExpression: absent } },
            ],
          }),
        );
        return 'created';
      } catch (err) {
        if (cancellationCodes(err)?.[0] === 'ConditionalCheckFailed') return 'taken';
        throw err;
      }
    },
    findByUsername: (username) => get(`username#${username}`),
    findById: (id) => get(`user#${id}`),
    close: async () => client.destroy(),
  };
}
