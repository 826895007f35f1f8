/**
 * The sidecar admin endpoint as verify resilience uses it: counters (GET /stats, Envoy's names)
 * and the fault switch (POST / DELETE /fault, applied on that sidecar's inbound listener, as
 * Istio's HTTPFaultInjection is). Plain HTTP on loopback.
 */
import { MeshgwError } from '../../errors.js';

/** The fault switch's body, as the sidecar admin endpoint takes it. */
export interface Fault {
  delayMs?: number;
  delayPercent?: number;
  abortStatus?: number;
  abortPercent?: number;
}

export interface AdminClient {
  stats(adminUrl: string): Promise<Record<string, number>>;
  setFault(adminUrl: string, fault: Fault): Promise<void>;
  clearFault(adminUrl: string): Promise<void>;
}

const ADMIN_TIMEOUT_MS = 5_000;

async function call(method: string, url: string, body?: unknown): Promise<Response> {
  try {
    return await fetch(url, {
      method,
      signal: AbortSignal.timeout(ADMIN_TIMEOUT_MS),
      ...(body !== undefined ? { body: JSON.stringify(body), headers: { 'content-type': 'application/json' } } : {}),
    });
  } catch (err) {
    throw new MeshgwError('CHECK_FAILED', `${method} ${url}: ${(err as Error).message}`, 'Is the sidecar up? `meshgw status` lists every replica.');
  }
}

async function expectOk(res: Response, what: string): Promise<void> {
  if (res.ok) return;
  const text = (await res.text().catch(() => '')).slice(0, 200);
  throw new MeshgwError(
    'CHECK_FAILED',
    `${what} answered ${res.status}${text ? `: ${text.trim()}` : ''}`,
    res.status === 404 || res.status === 405 ? 'This sidecar has no fault switch: rebuild meshgw (`npm run build`) and restart the stack (`meshgw down && meshgw up`).' : undefined,
  );
}

export function httpAdminClient(): AdminClient {
  return {
    async stats(adminUrl) {
      const res = await call('GET', `${adminUrl}/stats`);
      await expectOk(res, `GET ${adminUrl}/stats`);
      return (await res.json()) as Record<string, number>;
    },
    async setFault(adminUrl, fault) {
      await expectOk(await call('POST', `${adminUrl}/fault`, fault), `POST ${adminUrl}/fault`);
    },
    async clearFault(adminUrl) {
      await expectOk(await call('DELETE', `${adminUrl}/fault`), `DELETE ${adminUrl}/fault`);
    },
  };
}
