import { createApp as createOrdersApp } from '../../services/orders/app.js';
import { createMemoryOrderStore } from '../../services/orders/order-store.js';
import { createApp as createProductsApp } from '../../services/products/app.js';
import { createCatalogue } from '../../services/products/catalogue.js';
import { createApp as createUsersApp } from '../../services/users/app.js';
import { createMemoryUserStore } from '../../services/users/user-store.js';
import { Agent } from 'undici';
import { type FakeClock, LineCollector, type Running, serve } from './helpers.js';

export const TOKEN_SECRET = 'test-secret-0123456789abcdefghijklmnop';
export const TOKEN_TTL_SECONDS = 3600;
// scrypt's cost is lowered so that tests that hash a handful of passwords stay fast.
const TEST_SCRYPT_COST = 1 << 10;

export interface ServiceUnderTest extends Running {
  log: LineCollector;
  errors: LineCollector;
}

export async function startUsers(clock: FakeClock, maxBodyBytes = 1024): Promise<ServiceUnderTest> {
  const log = new LineCollector();
  const errors = new LineCollector();
  const config = { service: 'users', tokenSecret: TOKEN_SECRET, tokenTtlSeconds: TOKEN_TTL_SECONDS, maxBodyBytes, scryptCost: TEST_SCRYPT_COST };
  const app = createUsersApp({ clock, log, errorLog: errors, store: createMemoryUserStore(), config });
  return { ...(await serve(app.callback())), log, errors };
}

export async function startProducts(clock: FakeClock): Promise<ServiceUnderTest> {
  const log = new LineCollector();
  const errors = new LineCollector();
  const app = createProductsApp({ clock, log, errorLog: errors, store: createCatalogue(), config: { service: 'products' } });
  return { ...(await serve(app.callback())), log, errors };
}

export interface OrdersUnderTest extends ServiceUnderTest {
  dispatcher: Agent;
}

export async function startOrders(
  clock: FakeClock,
  backends: { usersUrl: string; productsUrl: string; backendTimeoutMs?: number },
): Promise<OrdersUnderTest> {
  const log = new LineCollector();
  const errors = new LineCollector();
  const dispatcher = new Agent({ connections: 4 });
  const config = {
    service: 'orders',
    usersUrl: backends.usersUrl,
    productsUrl: backends.productsUrl,
    maxBodyBytes: 1024,
    backendTimeoutMs: backends.backendTimeoutMs ?? 2000,
  };
  const app = createOrdersApp({ clock, log, errorLog: errors, store: createMemoryOrderStore(), config, dispatcher });
  const running = await serve(app.callback());
  return {
    ...running,
    log,
    errors,
    dispatcher,
    close: async () => {
      await running.close();
      await dispatcher.destroy();
    },
  };
}
