import Router from '@koa/router';
import { type ServiceApp, type ServiceDeps, createServiceApp } from '../shared/service-app.js';
import type { ServiceState } from '../shared/state.js';
import type { Catalogue } from './catalogue.js';

export interface ProductsConfig {
  service: string;
}

export interface ProductsDeps extends ServiceDeps {
  store: Catalogue;
  config: ProductsConfig;
}

/** The products service: a read-only catalogue. */
export function createApp(deps: ProductsDeps): ServiceApp {
  const { store } = deps;
  const app = createServiceApp(deps.config.service, deps);
  const router = new Router<ServiceState>();

  router.get('/products', async function listProducts(ctx) {
    ctx.body = { products: store.list() };
  });

  router.get('/products/:id', async function getProduct(ctx) {
    const product = store.find(ctx.params.id);
    if (!product) return ctx.throw(404, `no product "${ctx.params.id}"`, { code: 'product_not_found' });
    ctx.body = product;
  });

  app.use(router.routes());
  app.use(router.allowedMethods());
  return app;
}
