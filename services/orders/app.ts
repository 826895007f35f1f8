import Router from '@koa/router';
import type { ParameterizedContext } from 'koa';
import { randomUUID } from 'node:crypto';
import type { Dispatcher } from 'undici';
import { z } from 'zod';
import { jsonBody } from '../shared/json-body.js';
import { type ServiceApp, type ServiceDeps, createServiceApp } from '../shared/service-app.js';
import { propagationHeaders } from '../shared/trace.js';
import { parseBody } from '../shared/validate.js';
import { type OrdersState, authenticate } from './authenticate.js';
import type { BackendCallOptions } from './backend-call.js';
import { getJson } from './backend-call.js';
import { failBackend } from './backend-errors.js';
import { idempotencyKey, requestFingerprint } from './idempotency.js';
import type { IdempotencyClaim, IdempotentRecord, Order, OrderRepository } from './order-repository.js';

export interface OrdersConfig {
  service: string;
  /** Base URLs of users and products: plain HTTP to the sidecar's egress listeners. */
  usersUrl: string;
  productsUrl: string;
  maxBodyBytes: number;
  /** Bound on each backend call; past it the order fails with 504. */
  backendTimeoutMs: number;
}

export interface OrdersDeps extends ServiceDeps {
  orders: OrderRepository;
  config: OrdersConfig;
  /** The keep-alive pool for backend calls, created once by main (and closed by it). */
  dispatcher: Dispatcher;
}

// Bounds a single order so a typo cannot create a total that overflows a safe integer of cents.
export const MAX_QUANTITY = 1000;
const BACKEND_MAX_RESPONSE_BYTES = 256 * 1024;

const orderInputSchema = z.object(
  {
    productId: z.string('expected a string').min(1, 'expected a product id').max(64, 'expected at most 64 characters'),
    quantity: z
      .number('expected a number')
      .int('expected a whole number')
      .min(1, 'expected at least 1')
      .max(MAX_QUANTITY, `expected at most ${MAX_QUANTITY}`),
  },
  'expected a JSON object',
);

const productSchema = z.object({
  id: z.string(),
  price: z.number().int().nonnegative(),
  currency: z.string().min(1),
});

function answerCreated(ctx: ParameterizedContext, order: Order, replayed: boolean): void {
  ctx.status = 201;
  ctx.set('location', `/orders/${order.id}`);
  // Stripe's name for "this is the stored answer of an earlier request with this key".
  if (replayed) ctx.set('idempotent-replayed', 'true');
  ctx.body = order;
}

/**
 * A key seen before: the same request gets the original 201 again (same order); another request
 * under the same key is refused with 422, as draft-ietf-httpapi-idempotency-key-header says (Error Scenarios).
 */
function answerEarlier(ctx: ParameterizedContext, earlier: IdempotentRecord, claim: IdempotencyClaim): void {
  if (earlier.fingerprint !== claim.fingerprint) {
    return ctx.throw(422, 'this Idempotency-Key was already used with a different request', { code: 'idempotency_key_reused' });
  }
  answerCreated(ctx, earlier.order, true);
}

/** The orders service: creates orders for the token's user at the catalogue's price. */
export function createApp(deps: OrdersDeps): ServiceApp {
  const { orders, config, clock } = deps;
  const call: BackendCallOptions = {
    dispatcher: deps.dispatcher,
    timeoutMs: config.backendTimeoutMs,
    maxResponseBytes: BACKEND_MAX_RESPONSE_BYTES,
  };
  const app = createServiceApp(config.service, deps);
  const router = new Router<OrdersState>();
  const auth = authenticate({ usersUrl: config.usersUrl, call });
  // After authentication: a caller without a token does not get its body read.
  const body = jsonBody({ limitBytes: config.maxBodyBytes });

  router.post('/orders', auth, body, async function createOrder(ctx) {
    const key = idempotencyKey(ctx);
    const input = parseBody(ctx, orderInputSchema);
    const claim = key === undefined ? undefined : { key, fingerprint: requestFingerprint({ productId: input.productId, quantity: input.quantity }) };
    if (claim) {
      // A retry of an order already made is answered from the store, without asking products again.
      const earlier = await orders.findByIdempotencyKey(ctx.state.user.id, claim.key);
      if (earlier) return answerEarlier(ctx, earlier, claim);
    }
    const url = `${config.productsUrl}/products/${encodeURIComponent(input.productId)}`;
    const reply = await getJson(url, propagationHeaders(ctx.state), call);
    if (reply.type === 'response' && reply.status === 404) {
      return ctx.throw(422, `unknown product "${input.productId}"`, { code: 'unknown_product' });
    }
    const product = reply.type === 'response' && reply.status === 200 ? productSchema.safeParse(reply.json) : undefined;
    if (!product?.success) return failBackend(ctx, 'products', reply);
    const order: Order = {
      id: `o-${randomUUID()}`,
      userId: ctx.state.user.id,
      productId: product.data.id,
      quantity: input.quantity,
      unitPrice: product.data.price,
      total: product.data.price * input.quantity,
      currency: product.data.currency,
      createdAt: new Date(clock.now()).toISOString(),
    };
    const outcome = await orders.create(order, claim);
    // A concurrent request with the same key won the write: answer what it stored.
    if (outcome.type === 'key-exists') return answerEarlier(ctx, outcome.existing, claim!);
    answerCreated(ctx, outcome.order, false);
  });

  router.get('/orders/:id', auth, async function getOrder(ctx) {
    const order = await orders.findById(ctx.params.id);
    // Someone else's order is answered exactly like a missing one: ids are not an oracle.
    if (!order || order.userId !== ctx.state.user.id) return ctx.throw(404, `no order "${ctx.params.id}"`, { code: 'order_not_found' });
    ctx.body = order;
  });

  app.use(router.routes());
  app.use(router.allowedMethods());
  return app;
}
