import { createApp as createOrdersApp } from '../../services/orders/app.js';
import { openSqliteOrderRepository } from '../../services/orders/order-sqlite.js';
import { createApp as createProductsApp } from '../../services/products/app.js';
import { createCatalogue } from '../../services/products/catalogue.js';
import { createApp as createUsersApp } from '../../services/users/app.js';
import { openSqliteUserRepository } from '../../services/users/user-sqlite.js';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Agent } from 'undici';
import { type FakeClock, LineCollector, type Running, serve } from './helpers.js';

export const TOKEN_SECRET = 'test-secret-0123456789abcdefghijklmnop';
export const TOKEN_TTL_SECONDS = 3600;
// scrypt's cost is lowered so that tests that hash a handful of passwords stay fast.
const TEST_SCRYPT_COST = 1 << 10;

/** A fresh temp folder for one service's SQLite file; removed by the service's close(). */
function tempDataDir(service: string): string {
  return mkdtempSync(path.join(os.tmpdir(), `meshgw-${service}-`));
}

export interface ServiceUnderTest extends Running {
  log: LineCollector;
  errors: LineCollector;
}

export async function startUsers(clock: FakeClock, maxBodyBytes = 1024): Promise<ServiceUnderTest> {
  const log = new LineCollector();
  const errors = new LineCollector();
  const config = { service: 'users', tokenSecret: TOKEN_SECRET, tokenTtlSeconds: TOKEN_TTL_SECONDS, maxBodyBytes, scryptCost: TEST_SCRYPT_COST };
  const dir = tempDataDir('users');
  const users = openSqliteUserRepository(path.join(dir, 'users.sqlite'));
  const app = createUsersApp({ clock, log, errorLog: errors, users, config });
  const running = await serve(app.callback());
  return {
    ...running,
    log,
    errors,
    close: async () => {
      await running.close();
      await users.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
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
  const dir = tempDataDir('orders');
  const orders = openSqliteOrderRepository(path.join(dir, 'orders.sqlite'));
  const app = createOrdersApp({ clock, log, errorLog: errors, orders, config, dispatcher });
  const running = await serve(app.callback());
  return {
    ...running,
    log,
    errors,
    dispatcher,
    close: async () => {
      await running.close();
      await dispatcher.destroy();
      await orders.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** The three apps wired together (orders calling the real users and products), with a user's login helper. */
export interface ShopUnderTest {
  users: ServiceUnderTest;
  products: ServiceUnderTest;
  orders: OrdersUnderTest;
  close(): Promise<void>;
}

export async function startShop(clock: FakeClock): Promise<ShopUnderTest> {
  const users = await startUsers(clock);
  const products = await startProducts(clock);
  const orders = await startOrders(clock, { usersUrl: users.url, productsUrl: products.url });
  return {
    users,
    products,
    orders,
    close: async () => {
      await orders.close();
      await users.close();
      await products.close();
    },
  };
}
