/**
 * The soak's client: one user, orders placed through the gateway with an Idempotency-Key each, and
 * every attempt recorded. A request that got no answer, or a 5xx/429, is sent again with the same
 * key (the orders service creates at most one order per key), so an order is either answered 201
 * in the end or given up after RETRY_WINDOW_MS.
 */
import { Agent, request } from 'undici';

/** One HTTP attempt as the client saw it. */
export interface Attempt {
  /** performance.now() when it was sent, and when it was answered (or failed). */
  sentMs: number;
  doneMs: number;
  /** 0: no answer. */
  status: number;
  /** "201", "503 INTEGRATION_FAILURE", "no answer: ECONNREFUSED"… */
  cause: string;
}

/** One logical order: its key, and the order ids its 201 answers named (one, if nothing is duplicated). */
export interface OrderRecord {
  key: string;
  productId: string;
  quantity: number;
  createdIds: string[];
  outcome: 'created' | 'refused' | 'gave-up';
  tries: number;
}

export interface OrderClientOptions {
  /** The gateway's invoke URL now (it changes when the stack is started again on a new port). */
  baseUrl: () => string;
  apiKey: string;
  username: string;
  password: string;
  retryWindowMs?: number;
  requestTimeoutMs?: number;
}

const RETRY_WINDOW_MS = 90_000;
const FIRST_BACKOFF_MS = 100;
const MAX_BACKOFF_MS = 2_000;

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

function errorCode(err: unknown): string {
  const e = err as { code?: string; cause?: { code?: string }; name?: string };
  return e.cause?.code ?? e.code ?? e.name ?? 'UNKNOWN';
}

/** The cause of an answer: its status, and API Gateway's error type (or the service's error code) when it is not 2xx. */
function causeOf(status: number, headers: Record<string, string | string[] | undefined>, body: string): string {
  if (status >= 200 && status < 300) return String(status);
  let code = headers['x-amzn-errortype'] as string | undefined;
  if (!code) {
    try {
      // The services answer {code, message}; the sidecars {error: {code, message}}.
      const json = JSON.parse(body) as { code?: string; error?: { code?: string } | string };
      code = json.code ?? (typeof json.error === 'string' ? json.error : json.error?.code);
    } catch {
      // not JSON: the status alone
    }
  }
  return code ? `${status} ${code}` : String(status);
}

export class OrderClient {
  readonly attempts: Attempt[] = [];
  private readonly agent: Agent;
  private token = '';

  constructor(private readonly opts: OrderClientOptions) {
    const timeout = opts.requestTimeoutMs ?? 10_000;
    this.agent = new Agent({ connections: 32, headersTimeout: timeout, bodyTimeout: timeout, connectTimeout: 5_000 });
  }

  private async send(method: 'GET' | 'POST', path: string, headers: Record<string, string>, body?: unknown): Promise<{ status: number; json: Record<string, unknown> }> {
    const sentMs = performance.now();
    try {
      const res = await request(`${this.opts.baseUrl()}${path}`, {
        method,
        dispatcher: this.agent,
        headers: { 'x-api-key': this.opts.apiKey, ...(body === undefined ? {} : { 'content-type': 'application/json' }), ...headers },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      const text = await res.body.text();
      this.attempts.push({ sentMs, doneMs: performance.now(), status: res.statusCode, cause: causeOf(res.statusCode, res.headers, text) });
      let json: Record<string, unknown> = {};
      try {
        json = text ? (JSON.parse(text) as Record<string, unknown>) : {};
      } catch {
        // a non-JSON body: nothing to read from it
      }
      return { status: res.statusCode, json };
    } catch (err) {
      this.attempts.push({ sentMs, doneMs: performance.now(), status: 0, cause: `no answer: ${errorCode(err)}` });
      return { status: 0, json: {} };
    }
  }

  /** Sends until `done` accepts an answer or the window closes; answers that call for a retry are retried. */
  private async withRetries(call: () => Promise<{ status: number; json: Record<string, unknown> }>): Promise<{ status: number; json: Record<string, unknown>; tries: number }> {
    const deadline = performance.now() + (this.opts.retryWindowMs ?? RETRY_WINDOW_MS);
    let backoff = FIRST_BACKOFF_MS;
    for (let tries = 1; ; tries++) {
      const r = await call();
      const retry = r.status === 0 || r.status === 429 || r.status >= 500 || r.status === 401;
      if (!retry || performance.now() + backoff > deadline) return { ...r, tries };
      if (r.status === 401) await this.login();
      await sleep(backoff);
      backoff = Math.min(backoff * 2, MAX_BACKOFF_MS);
    }
  }

  /** Registers the user (a 409 from an earlier life is fine) and logs in. */
  async setUp(): Promise<void> {
    const reg = await this.withRetries(() => this.send('POST', '/users', {}, { username: this.opts.username, password: this.opts.password }));
    if (reg.status !== 201 && reg.status !== 409) throw new Error(`registering the soak user answered ${reg.status}`);
    await this.login();
  }

  async login(): Promise<void> {
    const r = await this.withRetries(() => this.send('POST', '/users/login', {}, { username: this.opts.username, password: this.opts.password }));
    if (r.status !== 200 || typeof r.json.token !== 'string') throw new Error(`logging in answered ${r.status}`);
    this.token = r.json.token;
  }

  /** Places one order under `key`, retrying with the same key until it is answered. */
  async placeOrder(key: string, productId: string, quantity: number): Promise<OrderRecord> {
    const record: OrderRecord = { key, productId, quantity, createdIds: [], outcome: 'gave-up', tries: 0 };
    const r = await this.withRetries(async () => {
      const a = await this.send('POST', '/orders', { authorization: `Bearer ${this.token}`, 'idempotency-key': key }, { productId, quantity });
      if (a.status === 201 && typeof a.json.id === 'string') record.createdIds.push(a.json.id);
      return a;
    });
    record.tries = r.tries;
    record.outcome = r.status === 201 ? 'created' : r.status >= 400 && r.status < 500 && r.status !== 429 && r.status !== 401 ? 'refused' : 'gave-up';
    return record;
  }

  /** GET /orders/<id>: the stored order, or the status that was answered in the end. */
  async readOrder(id: string): Promise<{ status: number; json: Record<string, unknown> }> {
    return this.withRetries(() => this.send('GET', `/orders/${encodeURIComponent(id)}`, { authorization: `Bearer ${this.token}` }));
  }

  close(): Promise<void> {
    return this.agent.close();
  }
}
