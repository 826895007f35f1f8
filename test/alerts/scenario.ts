/**
 * One set of series, written once and fed both to promtool (as `input_series`) and to meshgw's
 * evaluator (as Scrape[]), so the two see the very same samples. Every series carries the target
 * labels namespace/pod/app; the evaluator gets them from the Scrape's target, promtool from the series.
 */
import type { Scrape } from '../../src/metrics/contract.js';

export const STEP_MS = 15_000;

export interface ScenarioSeries {
  name: string;
  target: { namespace: string; pod: string; app: string };
  labels: Record<string, string>;
  /** One value per step from t=0; null = not scraped at that step. */
  values: (number | null)[];
}

/** A value list in promtool's expanding notation: explicit values, `_` for a missing one. */
export function promtoolValues(values: (number | null)[]): string {
  return values.map((v) => (v === null ? '_' : String(v))).join(' ');
}

export function promtoolSeries(s: ScenarioSeries): string {
  const labels = { ...s.labels, namespace: s.target.namespace, pod: s.target.pod, app: s.target.app };
  const body = Object.entries(labels)
    .map(([k, v]) => `${k}="${v.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`)
    .join(',');
  return `${s.name}{${body}}`;
}

/** The scrapes a scraper polling every target each STEP_MS would have taken. */
export function toScrapes(series: ScenarioSeries[]): Scrape[] {
  const steps = Math.max(...series.map((s) => s.values.length));
  const byTarget = new Map<string, ScenarioSeries['target']>();
  for (const s of series) byTarget.set(JSON.stringify(s.target), s.target);
  const scrapes: Scrape[] = [];
  for (let i = 0; i < steps; i++) {
    for (const [key, target] of byTarget) {
      const samples = series
        .filter((s) => JSON.stringify(s.target) === key && s.values[i] !== null && s.values[i] !== undefined)
        .map((s) => ({ name: s.name, labels: { ...s.labels }, value: s.values[i]! }));
      scrapes.push({ at: i * STEP_MS, target: { ...target, url: `http://${target.pod}.invalid/stats/prometheus` }, samples });
    }
  }
  return scrapes;
}

const ns = 'meshgw';
const users = { namespace: ns, pod: 'users-1', app: 'users' };
const products = { namespace: ns, pod: 'products-1', app: 'products' };
const orders = { namespace: ns, pod: 'orders-1', app: 'orders' };
const gateway = { namespace: ns, pod: 'gateway', app: 'gateway' };

/** n steps of a counter rising by `by` each step from `from`. */
function ramp(n: number, from: number, by: number): number[] {
  return Array.from({ length: n }, (_, i) => from + i * by);
}
function flat(n: number, v: number): number[] {
  return Array.from({ length: n }, () => v);
}

function istio(target: ScenarioSeries['target'], src: string, dst: string, code: string, values: (number | null)[]): ScenarioSeries {
  return {
    name: 'istio_requests_total',
    target,
    labels: { reporter: 'source', source_workload: src, source_workload_namespace: ns, destination_workload: dst, destination_workload_namespace: ns, response_code: code, connection_security_policy: 'unknown' },
    values,
  };
}

/**
 * Forty steps (10 minutes at 15 s): refusal bursts on three sidecars (one across a counter reset, one
 * on a series that appears mid-way), RBAC denials beside a busy `allowed` counter, client-side
 * verify failures on an outbound cluster and on xds-grpc (not the mesh), and gateway traffic whose
 * 429 and 5xx shares cross their thresholds for a while.
 */
export function mixedScenario(): ScenarioSeries[] {
  const n = 40;
  const listener = { listener_address: '127.0.0.1_40001' };
  return [
    { name: 'envoy_listener_ssl_fail_verify_no_cert', target: users, labels: listener, values: [...flat(4, 0), ...flat(36, 2)] },
    { name: 'envoy_listener_ssl_connection_error', target: users, labels: listener, values: [...flat(10, 0), 1, 1, 4, ...flat(27, 4)] },
    { name: 'envoy_listener_ssl_handshake', target: users, labels: listener, values: ramp(n, 0, 7) },
    // products restarts at step 8 (its counters start again from zero), then refuses three more.
    { name: 'envoy_listener_ssl_fail_verify_error', target: products, labels: listener, values: [...flat(5, 5), 6, 6, 6, 0, 0, 0, 3, ...flat(28, 3)] },
    // orders' fail_verify_error is first scraped at step 20 (a sidecar that started late).
    { name: 'envoy_listener_ssl_fail_verify_error', target: orders, labels: listener, values: [...Array<null>(20).fill(null), 1, 1, 2, ...flat(17, 2)] },
    { name: 'envoy_listener_no_filter_chain_match', target: orders, labels: { listener_address: '0.0.0.0_15006' }, values: [...flat(30, 0), 1, ...flat(9, 1)] },
    { name: 'envoy_http_rbac', target: orders, labels: { authz_enforce_result: 'denied', http_conn_manager_prefix: 'inbound_0.0.0.0_8080' }, values: [...flat(14, 0), 1, 2, 2, 5, ...flat(22, 5)] },
    { name: 'envoy_http_rbac', target: orders, labels: { authz_enforce_result: 'allowed', http_conn_manager_prefix: 'inbound_0.0.0.0_8080' }, values: ramp(n, 0, 30) },
    { name: 'envoy_cluster_ssl_fail_verify_san', target: orders, labels: { cluster_name: 'outbound|8080||users.meshgw.svc.cluster.local' }, values: [...flat(24, 0), 1, ...flat(15, 1)] },
    { name: 'envoy_cluster_ssl_fail_verify_error', target: orders, labels: { cluster_name: 'xds-grpc' }, values: ramp(n, 0, 1) },
    istio(gateway, 'gateway', 'orders', '200', ramp(n, 0, 100)),
    // 429s: a burst between steps 12 and 18 (about 40 % of requests), then none.
    istio(gateway, 'gateway', 'orders', '429', [...flat(12, 0), ...ramp(7, 0, 70), ...flat(21, 420)]),
    // 5xx: a trickle that crosses 1 % from step 26 on.
    istio(gateway, 'gateway', 'orders', '503', [...flat(26, 0), ...ramp(14, 0, 4)]),
    istio(orders, 'orders', 'users', '200', ramp(n, 0, 50)),
    istio(orders, 'orders', 'users', '500', [...flat(6, 0), ...ramp(10, 0, 5), ...flat(24, 45)]),
  ];
}

/** The refusal burst promtool's hand-written test uses: two refused handshakes between 45 s and 60 s. */
export function refusalBurst(): ScenarioSeries[] {
  return [{ name: 'envoy_listener_ssl_fail_verify_no_cert', target: users, labels: { listener_address: '127.0.0.1_40001' }, values: [...flat(4, 0), ...flat(12, 2)] }];
}
