// The two real backends the repository contract tests run against: SQLite in a temp folder, and
// DynamoDB on moto's server with tables made from the CloudFormation template's own properties.
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { createDynamoOrderRepository } from '../../services/orders/order-dynamodb.js';
import type { OrderRepository } from '../../services/orders/order-repository.js';
import { openSqliteOrderRepository } from '../../services/orders/order-sqlite.js';
import { createDynamoUserRepository } from '../../services/users/user-dynamodb.js';
import type { UserRepository } from '../../services/users/user-repository.js';
import { openSqliteUserRepository } from '../../services/users/user-sqlite.js';
import { createMotoTable, motoDocumentClient } from './dynamodb-tables.js';

export interface Opened<R> {
  repo: R;
  /** Closes `repo` and opens the same store again: a restarted process, with nothing kept in memory. */
  reopen(): Promise<R>;
  cleanup(): Promise<void>;
}

export interface Backend<R> {
  name: string;
  open(): Promise<Opened<R>>;
}

function sqliteBackend<R extends { close(): Promise<void> }>(service: string, openFile: (file: string) => R): Backend<R> {
  return {
    name: 'SQLite',
    async open() {
      const dir = await mkdtemp(path.join(os.tmpdir(), `meshgw-${service}-repo-`));
      const file = path.join(dir, 'data', `${service}.sqlite`);
      let current = openFile(file);
      return {
        repo: current,
        async reopen() {
          await current.close();
          current = openFile(file);
          return current;
        },
        async cleanup() {
          await current.close();
          await rm(dir, { recursive: true, force: true });
        },
      };
    },
  };
}

function dynamoBackend<R extends { close(): Promise<void> }>(
  logicalId: 'UsersTable' | 'OrdersTable',
  endpoint: () => string,
  create: (client: ReturnType<typeof motoDocumentClient>, table: string) => R,
): Backend<R> {
  return {
    name: 'DynamoDB (moto)',
    async open() {
      const table = `meshgw-${logicalId}-${randomUUID().slice(0, 8)}`;
      await createMotoTable(endpoint(), logicalId, table);
      let current = create(motoDocumentClient(endpoint()), table);
      return {
        repo: current,
        async reopen() {
          await current.close();
          current = create(motoDocumentClient(endpoint()), table);
          return current;
        },
        cleanup: () => current.close(),
      };
    },
  };
}

export function userBackends(motoEndpoint: () => string): Backend<UserRepository>[] {
  return [sqliteBackend('users', openSqliteUserRepository), dynamoBackend('UsersTable', motoEndpoint, createDynamoUserRepository)];
}

export function orderBackends(motoEndpoint: () => string): Backend<OrderRepository>[] {
  return [sqliteBackend('orders', openSqliteOrderRepository), dynamoBackend('OrdersTable', motoEndpoint, createDynamoOrderRepository)];
}
