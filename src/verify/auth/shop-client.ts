import { randomBytes } from 'node:crypto';
import { Agent, request } from 'undici';
import type { ApiKeyRecord } from '../../gateway/spec.js';
import type { GatewayEndpoint } from '../target.js';

export interface ApiReply {
  status: number;
  json: unknown;
  /** The gateway's id for the request (x-amzn-requestid, as API Gateway answers it): what `meshgw trace` takes. */
  requestId?: string;
}

export interface LoginReply {
  token: string;
  expiresIn: number;
  expiresAt?: string;
}

/** The key verify uses for ordinary traffic: the 'standard' plan's, else the one with the highest rate. */
export function standardKey(endpoint: GatewayEndpoint): ApiKeyRecord | undefined {
  return pickKey(endpoint, 'standard', (a, b) => b - a);
}

/** The key whose plan is 'limited', else the one with the lowest rate (if it is not the standard one). */
export function limitedKey(endpoint: GatewayEndpoint): ApiKeyRecord | undefined {
  const key = pickKey(endpoint, 'limited', (a, b) => a - b);
  return key && key.id !== standardKey(endpoint)?.id ? key : undefined;
}

function pickKey(endpoint: GatewayEndpoint, planName: string, order: (a: number, b: number) => number): ApiKeyRecord | undefined {
  const plans = endpoint.config.gateway.usagePlans;
  const rateOf = (k: ApiKeyRecord) => plans.find((p) => p.name === k.plan)?.throttle.rate ?? 0;
  const named = endpoint.apiKeys.find((k) => k.plan === planName);
  if (named) return named;
  return [...endpoint.apiKeys].sort((a, b) => order(rateOf(a), rateOf(b)))[0];
}

/** A username no earlier run used. */
export function uniqueUsername(prefix = 'verify'): string {
  return `${prefix}-${Date.now().toString(36)}-${randomBytes(4).toString('hex')}`;
}

/**
 * The shop's API as a client sees it through the gateway: users, products, orders. Every call
 * returns the status and parsed body; nothing throws on an HTTP error status.
 */
export class ShopClient {
  private readonly agent = new Agent({ connections: 4, keepAliveTimeout: 10_000 });

  constructor(
    private readonly baseUrl: string,
    private readonly timeoutMs = 15_000,
  ) {}

  async call(method: 'GET' | 'POST', path: string, opts: { apiKey?: string; token?: string; body?: unknown } = {}): Promise<ApiReply> {
    const headers: Record<string, string> = { accept: 'application/json' };
    if (opts.apiKey !== undefined) headers['x-api-key'] = opts.apiKey;
    if (opts.token !== undefined) headers.authorization = `Bearer ${opts.token}`;
    if (opts.body !== undefined) headers['content-type'] = 'application/json';
    const res = await request(this.baseUrl.replace(/\/$/, '') + path, {
      method,
      headers,
      body: opts.body === undefined ? undefined : JSON.stringify(opts.body),
      dispatcher: this.agent,
      headersTimeout: this.timeoutMs,
      bodyTimeout: this.timeoutMs,
    });
    const text = await res.body.text();
    let json: unknown = text;
    try {
      json = text ? JSON.parse(text) : undefined;
    } catch {
      // Not JSON: keep the text, a check's detail will show it.
    }
    const requestId = res.headers['x-amzn-requestid'];
    return { status: res.statusCode, json, ...(typeof requestId === 'string' ? { requestId } : {}) };
  }

  register(apiKey: string | undefined, username: string, password: string): Promise<ApiReply> {
    return this.call('POST', '/users', { apiKey, body: { username, password } });
  }

  login(apiKey: string | undefined, username: string, password: string, ttlSeconds?: number): Promise<ApiReply> {
    return this.call('POST', '/users/login', { apiKey, body: ttlSeconds === undefined ? { username, password } : { username, password, ttlSeconds } });
  }

  listProducts(apiKey: string | undefined): Promise<ApiReply> {
    return this.call('GET', '/products', { apiKey });
  }

  createOrder(apiKey: string | undefined, token: string | undefined, productId: string): Promise<ApiReply> {
    return this.call('POST', '/orders', { apiKey, token, body: { productId, quantity: 1 } });
  }

  close(): Promise<void> {
    return this.agent.close();
  }
}

/** The token of a login reply, or undefined when the reply is not one. */
export function loginToken(reply: ApiReply): LoginReply | undefined {
  const j = reply.json as Partial<LoginReply> | undefined;
  if (reply.status !== 200 || typeof j?.token !== 'string') return undefined;
  return { token: j.token, expiresIn: Number(j.expiresIn ?? 0), expiresAt: typeof j.expiresAt === 'string' ? j.expiresAt : undefined };
}

/** The first product id of a GET /products reply ({products: [...]} or a bare list). */
export function firstProductId(reply: ApiReply): string | undefined {
  const j = reply.json as { products?: unknown } | unknown[] | undefined;
  const list = Array.isArray(j) ? j : Array.isArray((j as { products?: unknown })?.products) ? ((j as { products: unknown[] }).products) : [];
  const first = list.find((p): p is { id: string } => typeof (p as { id?: unknown })?.id === 'string');
  return first?.id;
}

/** A short description of a reply for a check's detail line. */
export function describeReply(reply: ApiReply): string {
  const msg = (reply.json as { message?: unknown; error?: unknown } | undefined)?.message ?? (reply.json as { error?: unknown } | undefined)?.error;
  return msg === undefined ? `${reply.status}` : `${reply.status} ${typeof msg === 'string' ? msg : JSON.stringify(msg)}`;
}
