import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { PassThrough } from 'node:stream';
import { configSchema, type MeshgwConfig } from '../../src/config/schema.js';
import { createGateway, type GatewayHandle } from '../../src/gateway/gateway.js';
import type { ApiKeyRecord, GatewaySpec } from '../../src/gateway/spec.js';
import type { GatewayEndpoint } from '../../src/verify/target.js';

/** What the fake shop enforces; a test turns one off to see the matching check fail. */
export interface ShopBehaviour {
  checkSignature: boolean;
  checkExpiry: boolean;
}

/** The shop's clock, moved by tests instead of waiting. */
export class ShopClock {
  epochMs = Date.UTC(2026, 5, 1, 12, 0, 0);
  advance(ms: number): void {
    this.epochMs += ms;
  }
}

const SECRET = randomBytes(32);
const b64 = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');

function sign(input: string): string {
  return createHmac('sha256', SECRET).update(input).digest('base64url');
}

function send(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body));
}

/**
 * The users, products and orders APIs in one plain-HTTP server, with the same contract as the
 * real services (HS256 tokens, {products: [...]}, 201 for an order) and a movable clock.
 */
export async function startFakeShop(behaviour: ShopBehaviour, clock: ShopClock): Promise<{ origin: string; orders: number; close(): Promise<void> }> {
  const users = new Map<string, string>();
  const state = { orders: 0 };
  const handle = (req: IncomingMessage, res: ServerResponse, body: string): void => {
    const json = body ? (JSON.parse(body) as Record<string, unknown>) : {};
    const path = (req.url ?? '').split('?')[0];
    if (req.method === 'POST' && path === '/users') {
      if (users.has(String(json.username))) return send(res, 409, { error: 'taken' });
      users.set(String(json.username), String(json.password));
      return send(res, 201, { id: `u-${users.size}`, username: json.username });
    }
    if (req.method === 'POST' && path === '/users/login') {
      if (users.get(String(json.username)) !== String(json.password)) return send(res, 401, { error: 'wrong username or password' });
      const ttl = typeof json.ttlSeconds === 'number' ? json.ttlSeconds : 3600;
      const iat = Math.floor(clock.epochMs / 1000);
      const input = `${b64({ alg: 'HS256', typ: 'JWT' })}.${b64({ sub: json.username, iat, exp: iat + ttl })}`;
      return send(res, 200, { token: `${input}.${sign(input)}`, tokenType: 'Bearer', expiresIn: ttl, expiresAt: new Date((iat + ttl) * 1000).toISOString() });
    }
    if (req.method === 'GET' && path === '/products') return send(res, 200, { products: [{ id: 'p-100', price: 1999, currency: 'USD' }] });
    if (req.method === 'POST' && path === '/orders') {
      const auth = req.headers.authorization;
      if (!auth?.startsWith('Bearer ')) return send(res, 401, { error: 'missing bearer token' });
      const [h, p, s] = auth.slice(7).split('.');
      const good = Buffer.from(sign(`${h}.${p}`));
      const given = Buffer.from(s ?? '');
      if (behaviour.checkSignature && (given.length !== good.length || !timingSafeEqual(given, good))) return send(res, 401, { error: 'invalid token' });
      const claims = JSON.parse(Buffer.from(p ?? '', 'base64url').toString('utf8') || '{}') as { exp?: number };
      if (behaviour.checkExpiry && Math.floor(clock.epochMs / 1000) >= (claims.exp ?? 0)) return send(res, 401, { error: 'token expired' });
      state.orders++;
      return send(res, 201, { id: `o-${state.orders}`, productId: json.productId });
    }
    send(res, 404, { error: 'not found' });
  };
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => handle(req, res, Buffer.concat(chunks).toString('utf8')));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    origin: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    get orders() {
      return state.orders;
    },
    close: () => {
      server.closeAllConnections();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}

export const SHOP_KEYS: ApiKeyRecord[] = [
  { id: 'k-standard', name: 'demo-standard', plan: 'standard', value: 'standard-secret-value-0001' },
  { id: 'k-limited', name: 'demo-limited', plan: 'limited', value: 'limited-secret-value-0002' },
];

/** A meshgw config for the shop with the given gateway limits (everything else defaulted). */
export function shopConfig(gateway: Record<string, unknown>): MeshgwConfig {
  return configSchema.parse({
    version: 1,
    services: { users: { pathPrefix: '/users' }, products: { pathPrefix: '/products' }, orders: { pathPrefix: '/orders', backends: ['users', 'products'] } },
    gateway: {
      usagePlans: [
        { name: 'standard', throttle: { rate: 1000, burst: 1000 }, apiKeys: ['demo-standard'] },
        { name: 'limited', throttle: { rate: 10, burst: 5 }, apiKeys: ['demo-limited'] },
      ],
      ...gateway,
    },
  });
}

/** A real gateway in front of the fake shop, and the endpoint verify sees. */
export async function startShopGateway(config: MeshgwConfig, shopOrigin: string, gatewayConfig = config.gateway): Promise<{ endpoint: GatewayEndpoint; gateway: GatewayHandle }> {
  const spec: GatewaySpec = {
    kind: 'gateway',
    host: '127.0.0.1',
    port: 0,
    stage: config.gateway.stage,
    gateway: gatewayConfig,
    routes: Object.entries(config.services).map(([service, s]) => ({
      service,
      pathPrefix: s.pathPrefix,
      requireApiKey: s.requireApiKey,
      upstream: { origin: shopOrigin, expectedSpiffeId: `spiffe://cluster.local/ns/meshgw/sa/${service}` },
    })),
    apiKeys: SHOP_KEYS,
    tls: { caFile: '', certFile: '', keyFile: '' },
    spiffeId: 'spiffe://cluster.local/ns/meshgw/sa/gateway',
  };
  const gateway = createGateway(spec, { log: new PassThrough().resume() });
  const port = await gateway.listen();
  return { gateway, endpoint: { target: 'local', config, baseUrl: `http://127.0.0.1:${port}/${config.gateway.stage}`, apiKeys: SHOP_KEYS } };
}
