// Entry of the products container / local process: env in, JSON access log out (see shared/run-service.ts).
import { runService } from '../shared/run-service.js';
import { createApp } from './app.js';
import { createCatalogue } from './catalogue.js';

runService('products', (_env, common, deps) => ({
  app: createApp({ ...deps, store: createCatalogue(), config: { service: common.serviceName } }),
}));
