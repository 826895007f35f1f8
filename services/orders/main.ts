// Entry of the orders container / local process: env in, JSON access log out (see shared/run-service.ts).
import { Agent, Pool } from 'undici';
import { deferredRepository } from '../shared/deferred-repository.js';
import { httpUrl, integerIn, readStorageEnv, socketPath } from '../shared/env.js';
import { runService } from '../shared/run-service.js';
import { createApp } from './app.js';
import type { OrderRepository } from './order-repository.js';
import { openSqliteOrderRepository } from './order-sqlite.js';

const DEFAULT_BACKEND_TIMEOUT_MS = 5000;

runService('orders', (env, common, deps) => {
  const config = {
    service: common.serviceName,
    usersUrl: httpUrl(env, 'USERS_URL'),
    productsUrl: httpUrl(env, 'PRODUCTS_URL'),
    maxBodyBytes: common.maxBodyBytes,
    backendTimeoutMs: integerIn(env, 'BACKEND_TIMEOUT_MS', 1, 120_000, DEFAULT_BACKEND_TIMEOUT_MS),
  };
  // Locally each backend is reached through the sidecar's egress socket for it (USERS_SOCKET,
  // PRODUCTS_SOCKET); in a pod the URLs' host and port lead to the sidecar instead.
  const sockets = new Map<string, string>();
  for (const [urlVar, socketVar] of [['USERS_URL', 'USERS_SOCKET'], ['PRODUCTS_URL', 'PRODUCTS_SOCKET']] as const) {
    const socket = socketPath(env, socketVar);
    if (socket) sockets.set(new URL(httpUrl(env, urlVar)).origin, socket);
  }
  // One keep-alive pool per backend, for the life of the process.
  const dispatcher = new Agent({
    connections: 32,
    keepAliveTimeout: 4000,
    connect: { timeout: config.backendTimeoutMs },
    factory: (origin, opts) => new Pool(origin, { ...opts, ...(sockets.has(String(origin)) ? { socketPath: sockets.get(String(origin)) } : {}) }),
  });
  const storage = readStorageEnv(env, 'orders');
  const orders: OrderRepository =
    storage.type === 'sqlite'
      ? openSqliteOrderRepository(storage.file)
      : deferredRepository(async () => {
          const [{ createDocumentClient }, { createDynamoOrderRepository }] = await Promise.all([import('../shared/dynamodb.js'), import('./order-dynamodb.js')]);
          return createDynamoOrderRepository(createDocumentClient(), storage.tableName);
        });
  const app = createApp({ ...deps, orders, config, dispatcher });
  return { app, close: async () => void (await Promise.all([dispatcher.close(), orders.close()])) };
});
