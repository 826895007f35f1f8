// Entry of the orders container / local process: env in, JSON access log out (see shared/run-service.ts).
import { Agent } from 'undici';
import { httpUrl, integerIn } from '../shared/env.js';
import { runService } from '../shared/run-service.js';
import { createApp } from './app.js';
import { createMemoryOrderStore } from './order-store.js';

const DEFAULT_BACKEND_TIMEOUT_MS = 5000;

runService('orders', (env, common, deps) => {
  const config = {
    service: common.serviceName,
    usersUrl: httpUrl(env, 'USERS_URL'),
    productsUrl: httpUrl(env, 'PRODUCTS_URL'),
    maxBodyBytes: common.maxBodyBytes,
    backendTimeoutMs: integerIn(env, 'BACKEND_TIMEOUT_MS', 1, 120_000, DEFAULT_BACKEND_TIMEOUT_MS),
  };
  // One keep-alive pool for both backends, for the life of the process.
  const dispatcher = new Agent({ connections: 32, keepAliveTimeout: 4000, connect: { timeout: config.backendTimeoutMs } });
  const app = createApp({ ...deps, store: createMemoryOrderStore(), config, dispatcher });
  return { app, close: () => dispatcher.close() };
});
