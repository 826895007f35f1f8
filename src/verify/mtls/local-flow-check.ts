/**
 * The assignment's "successful communication": register → login → list products → create order
 * through the gateway, then the callee sidecars' own counters show that each hop
 * (gateway→services, orders→its backends) rode a verified mTLS session.
 */
import { GATEWAY_WORKLOAD, serviceNames, spiffeId } from '../../config/topology.js';
import type { Check, CheckResult } from '../checks.js';
import { describeReply, firstProductId, loginToken, ShopClient, standardKey, uniqueUsername, type ApiReply } from '../auth/shop-client.js';
import { counterDelta, fetchStats, type Counters } from './local-admin.js';
import type { LocalMtlsContext } from './local-context.js';

interface Edge {
  caller: string;
  callee: string;
}

interface EdgeResult extends Edge {
  /** Requests admitted by the callee's RBAC from the caller during the flow. */
  requests: number;
  /** New mutual handshakes from the caller during the flow. */
  newHandshakes: number;
  /** All handshakes from the caller since the sidecar started. */
  totalHandshakes: number;
}

/** The hops the flow must take: the gateway into each service it calls, and orders into its backends. */
export function expectedEdges(ctx: LocalMtlsContext): Edge[] {
  const services = serviceNames(ctx.mesh.config);
  const edges: Edge[] = ['users', 'products', 'orders'].filter((s) => services.includes(s)).map((callee) => ({ caller: GATEWAY_WORKLOAD, callee }));
  for (const callee of ctx.mesh.config.services.orders?.backends ?? []) edges.push({ caller: 'orders', callee });
  return edges;
}

/** Each service's inbound counters, its replicas' added up: a hop may land on any replica. */
async function snapshot(ctx: LocalMtlsContext): Promise<Record<string, Counters>> {
  const out: Record<string, Counters> = {};
  for (const w of ctx.mesh.workloads) {
    if (!w.adminUrl || !w.inboundUrl) continue;
    const stats = await fetchStats(w.adminUrl);
    const total = (out[w.service ?? w.name] ??= {});
    for (const [k, v] of Object.entries(stats)) if (typeof v === 'number') total[k] = (total[k] ?? 0) + v;
  }
  return out;
}

interface Step {
  label: string;
  reply: ApiReply;
  ok: boolean;
}

async function runFlow(ctx: LocalMtlsContext): Promise<Step[]> {
  const client = new ShopClient(ctx.endpoint.baseUrl);
  const key = standardKey(ctx.endpoint)?.value;
  const steps: Step[] = [];
  const push = (label: string, reply: ApiReply, ok: boolean) => (steps.push({ label, reply, ok }), ok);
  try {
    const username = uniqueUsername('mtls');
    const password = `pw-${username}`;
    const reg = await client.register(key, username, password);
    if (!push('POST /users', reg, reg.status === 201)) return steps;
    const login = await client.login(key, username, password);
    const token = loginToken(login)?.token;
    if (!push('POST /users/login', login, token !== undefined)) return steps;
    const products = await client.listProducts(key);
    const productId = firstProductId(products);
    if (!push('GET /products', products, productId !== undefined)) return steps;
    const order = await client.createOrder(key, token, productId!);
    push('POST /orders', order, order.status === 201);
    return steps;
  } finally {
    await client.close();
  }
}

async function inspect(ctx: LocalMtlsContext): Promise<CheckResult> {
  const before = await snapshot(ctx);
  const steps = await runFlow(ctx);
  const after = await snapshot(ctx);
  const flowLine = steps.map((s) => `${s.label} ${describeReply(s.reply)}`).join(', ');
  const cfg = ctx.mesh.config;
  const edges: EdgeResult[] = expectedEdges(ctx).map((e) => {
    const id = spiffeId(cfg, e.caller);
    const d = counterDelta(before[e.callee] ?? {}, after[e.callee] ?? {});
    return { ...e, requests: d[`rbac.allowed.peer.${id}`] ?? 0, newHandshakes: d[`ssl.handshake.peer.${id}`] ?? 0, totalHandshakes: after[e.callee]?.[`ssl.handshake.peer.${id}`] ?? 0 };
  });
  const flowOk = steps.length === 4 && steps.every((s) => s.ok);
  const silent = edges.filter((e) => e.requests < 1 || e.totalHandshakes < 1);
  // Connections are pooled, so a hop that already carried traffic may add no handshake now: show both.
  const edgeLine = edges.map((e) => `${e.caller}→${e.callee} ${e.requests} rq over mTLS (${e.totalHandshakes} handshake${e.totalHandshakes === 1 ? '' : 's'}, ${e.newHandshakes} new)`).join(', ');
  const data = { steps: steps.map((s) => ({ step: s.label, status: s.reply.status, ok: s.ok, ...(s.reply.requestId ? { requestId: s.reply.requestId } : {}) })), edges };
  if (!flowOk) {
    const failed = steps.find((s) => !s.ok) ?? steps.at(-1);
    return { ok: false, detail: `flow stopped at ${failed?.label ?? 'the first step'}: ${flowLine}; mTLS: ${edgeLine}`, data, hint: 'Look at the sidecar and app logs under .meshgw/local/logs: a 403 RBAC_DENIED or a 502 from a sidecar names the hop that failed.' };
  }
  if (silent.length > 0) {
    return { ok: false, detail: `flow passed (${flowLine}) but no mTLS traffic was counted on ${silent.map((e) => `${e.caller}→${e.callee}`).join(', ')}`, data, hint: 'Every hop must go through the sidecars; check that the apps call their egress listeners.' };
  }
  // With keep-alive pools a hop may reuse a session opened earlier; its requests still rode mTLS.
  return { ok: true, detail: `${flowLine}; mTLS: ${edgeLine}`, data };
}

export function localFlowCheck(): Check<LocalMtlsContext> {
  return {
    id: 'mtls.flow',
    title: 'carries login → list products → create order over mTLS between gateway, orders, users and products',
    timeoutMs: 60_000,
    run: inspect,
  };
}
