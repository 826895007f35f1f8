import { randomBytes } from 'node:crypto';
import type { Check, CheckResult } from '../checks.js';
import type { GatewayEndpoint } from '../target.js';
import { openSession } from './session.js';
import { describeReply, ShopClient, standardKey, type ApiReply } from './shop-client.js';

export interface AuthOptions {
  /** Waiting for a token to expire; tests inject one that moves a fake clock. */
  sleep?: (ms: number) => Promise<void>;
  /** Wall clock (epoch ms) to compare with a token's expiry. */
  now?: () => number;
}

/** Past a token's expiry, how long to wait more: tokens carry whole seconds, and clocks differ a little. */
const EXPIRY_MARGIN_MS = 1_500;

const realSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** A token of the same shape whose signature is not the issuer's: the last segment replaced. */
export function forgeSignature(token: string): string {
  const parts = token.split('.');
  const sig = parts[parts.length - 1];
  let forged = sig;
  while (forged === sig) forged = randomBytes(Math.max(1, Math.ceil((sig.length * 3) / 4))).toString('base64url').slice(0, sig.length);
  parts[parts.length - 1] = forged;
  return parts.join('.');
}

function expect(reply: ApiReply, wanted: (s: number) => boolean, label: string, hint: string): CheckResult {
  const ok = wanted(reply.status);
  return { ok, detail: `${label}: ${describeReply(reply)}`, hint, data: { status: reply.status, body: reply.json } };
}

const is403 = (s: number) => s === 403;
const is401 = (s: number) => s === 401;
const is2xx = (s: number) => s >= 200 && s < 300;

async function withClient<T>(endpoint: GatewayEndpoint, fn: (client: ShopClient, apiKey: string | undefined) => Promise<T>): Promise<T> {
  const client = new ShopClient(endpoint.baseUrl);
  try {
    return await fn(client, standardKey(endpoint)?.value);
  } finally {
    await client.close();
  }
}

/**
 * The assignment's authentication scenario: API keys at the gateway, then bearer tokens at the
 * orders service, each case an independent check with its own user.
 */
export function authChecks(opts: AuthOptions = {}): Check<GatewayEndpoint>[] {
  const sleep = opts.sleep ?? realSleep;
  const now = opts.now ?? Date.now;
  return [
    {
      id: 'auth.no-key',
      title: 'refuses a request without an API key with 403',
      run: (ep) => withClient(ep, async (c) => expect(await c.listProducts(undefined), is403, 'GET /products without x-api-key', 'The gateway must require a key on /products (services.products.requireApiKey).')),
    },
    {
      id: 'auth.wrong-key',
      title: 'refuses a request with a wrong API key with 403',
      run: (ep) =>
        withClient(ep, async (c) => expect(await c.listProducts(`wrong-${randomBytes(16).toString('hex')}`), is403, 'GET /products with a made-up key', 'The gateway accepted a key that is in no usage plan.')),
    },
    {
      id: 'auth.valid-key',
      title: 'serves a request with a valid API key',
      run: (ep) => withClient(ep, async (c, key) => expect(await c.listProducts(key), is2xx, 'GET /products with the standard key', 'Is the products service up? `meshgw status` shows it.')),
    },
    {
      id: 'auth.no-token',
      title: 'refuses an order without a login token with 401',
      run: (ep) =>
        withClient(ep, async (c, key) => {
          const s = await openSession(c, key);
          return expect(await c.createOrder(key, undefined, s.productId), is401, 'POST /orders without a bearer token', 'The orders service must demand a bearer token.');
        }),
    },
    {
      id: 'auth.forged-token',
      title: 'refuses an order with a forged token with 401',
      run: (ep) =>
        withClient(ep, async (c, key) => {
          const s = await openSession(c, key);
          const forged = forgeSignature(s.login.token);
          return expect(await c.createOrder(key, forged, s.productId), is401, 'POST /orders with a re-signed token', 'The token signature must be checked (users service).');
        }),
    },
    {
      id: 'auth.expired-token',
      title: 'refuses an order with an expired token with 401',
      timeoutMs: 30_000,
      run: (ep) =>
        withClient(ep, async (c, key) => {
          const s = await openSession(c, key, 1);
          const parsed = s.login.expiresAt ? Date.parse(s.login.expiresAt) : Number.NaN;
          const expiresAtMs = Number.isFinite(parsed) ? parsed : now() + s.login.expiresIn * 1000;
          await sleep(Math.max(0, expiresAtMs - now()) + EXPIRY_MARGIN_MS);
          return expect(await c.createOrder(key, s.login.token, s.productId), is401, 'POST /orders with a token past its expiry', 'Token expiry must be enforced (users service).');
        }),
    },
    {
      id: 'auth.real-token',
      title: 'creates an order for a registered, logged-in user',
      run: (ep) =>
        withClient(ep, async (c, key) => {
          const s = await openSession(c, key);
          return expect(await c.createOrder(key, s.login.token, s.productId), (st) => st === 201, `register → login → order ${s.productId}`, 'Follow the request id in the orders service log.');
        }),
    },
  ];
}
