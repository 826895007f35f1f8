/** The human-readable table of a benchmark run (the JSON is the record; this is for eyes). */
import type { BenchResults } from './results.js';
import { times } from './stats.js';

function row(cells: (string | number | undefined)[], widths: number[]): string {
  return cells.map((c, i) => String(c ?? '').padEnd(widths[i])).join('  ').trimEnd();
}

function table(header: string[], rows: (string | number | undefined)[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => String(r[i] ?? '').length)));
  return [row(header, widths), row(widths.map((w) => '-'.repeat(w)), widths), ...rows.map((r) => row(r, widths))].join('\n');
}

const ms = (x: number | undefined) => (x === undefined || !Number.isFinite(x) ? 'n/a' : x.toFixed(2));

export function renderReport(r: BenchResults): string {
  const out: string[] = [];
  const m = r.machine;
  out.push(`meshgw benchmarks — ${r.startedAt} — ${m.cpuModel}, ${m.cores} cores, ${m.memoryGiB} GiB, Node ${m.node} (load avg at start ${m.loadAverage1m})`);
  const lat: (string | number | undefined)[][] = [];
  const add = (name: string, x: { p50Ms: number; p99Ms: number; rps: number; errors: number; concurrency: number } | undefined, base?: { p50Ms: number; p99Ms: number; rps: number }) => {
    if (!x) return;
    lat.push([name, x.concurrency, ms(x.p50Ms), ms(x.p99Ms), x.rps.toFixed(0), x.errors, base ? times(x.p50Ms / base.p50Ms) : 'baseline', base ? times(x.p99Ms / base.p99Ms) : '', base ? times(x.rps / base.rps) : '']);
  };
  if (r.gateway) {
    add('GET /products direct', r.gateway.direct);
    add('  via meshgw gateway', r.gateway.gateway, r.gateway.direct);
    add('  via gateway, all features', r.gateway.gatewayAllFeatures, r.gateway.direct);
    add('  via nginx', r.gateway.nginx, r.gateway.direct);
  }
  if (r.mesh) {
    add('GET /products plain loopback', r.mesh.direct);
    add('  via one mTLS hop', r.mesh.meshHop, r.mesh.direct);
    add('new TCP connection per request', r.mesh.newPlainConnection);
    add('  new mTLS handshake per request', r.mesh.newMtlsConnection, r.mesh.newPlainConnection);
  }
  if (r.orderFlow) {
    add('GET /products via stack (gw+mTLS)', r.orderFlow.productsViaGateway);
    add('  POST /orders full flow', r.orderFlow, r.orderFlow.productsViaGateway);
  }
  if (lat.length) out.push('', table(['measurement', 'conc', 'p50 ms', 'p99 ms', 'req/s', 'errors', 'p50 ratio', 'p99 ratio', 'req/s ratio'], lat));
  if (r.mesh && Object.keys(r.mesh.cpuMsPerHandshake).length) {
    out.push(`CPU ms per new mTLS connection: ${Object.entries(r.mesh.cpuMsPerHandshake).map(([k, v]) => `${k} ${v.toFixed(2)}`).join(', ')}`);
  }
  if (r.orderFlow && Object.keys(r.orderFlow.cpuMsPerOrder).length) {
    const o = r.orderFlow;
    const names = Object.keys(o.cpuMsPerOrder);
    out.push('', 'CPU ms per request by process (order flow stack):');
    out.push(table(['request', ...names], [['POST /orders', ...names.map((n) => o.cpuMsPerOrder[n]?.toFixed(2))], ['GET /products', ...names.map((n) => o.cpuMsPerProductsGet[n]?.toFixed(2))]]));
  }
  if (r.sidecarPair) {
    const p = r.sidecarPair;
    const f = (x: { p50Ms: number; p90Ms: number; p99Ms: number; rps: number; errors: number; maxQueued: number }) => `p50 ${ms(x.p50Ms)} p90 ${ms(x.p90Ms)} p99 ${ms(x.p99Ms)} ms, ${x.rps.toFixed(0)}/s, ${x.errors} errors, max queued ${x.maxQueued}`;
    out.push(
      '',
      `two sidecars, open loop ${p.shape.rps}/s over ${p.shape.connections} connections, ${p.shape.payloadBytes} B echoed, ${p.shape.durationMs / 1000} s:`,
      `  direct        ${f(p.direct)}`,
      `  two sidecars  ${f(p.twoSidecars)}`,
      `  added p50 / p90 / p99: +${ms(p.added.p50Ms)} / +${ms(p.added.p90Ms)} / +${ms(p.added.p99Ms)} ms`,
      `  sidecar RSS MiB idle ${JSON.stringify(p.rssIdleMiB)}, at load (max) ${JSON.stringify(p.rssAtLoadMiB)}; CPU ms per request ${JSON.stringify(p.cpuMsPerRequest)}`,
    );
  }
  const part4 = issue13Figures(r);
  if (part4.length) out.push('', 'issue 13 part 4 figures:', ...part4.map((l) => `  ${l}`));
  if (r.gateway?.nginxSkipped) out.push(`nginx skipped: ${r.gateway.nginxSkipped}`);
  if (r.limiter) {
    const l = r.limiter;
    out.push(
      '',
      `limiter: limit ${l.limit.rate}/s burst ${l.limit.burst}, offered ${l.offeredRps}/s for ${l.durationS} s (achieved ${l.achievedOfferedRps}/s, ${l.sent} sent)`,
      `  admitted ${l.admitted}, model ${l.modelAdmitted} (error ${(l.relativeError * 100).toFixed(2)} %), ideal ${l.idealAdmitted}; throttled ${l.throttled}; other ${l.otherStatus}`,
      `  admitted per second (gateway/model): ${l.perSecond.map((p) => `${p.admitted}/${p.model}`).join(' ')}; max deviation ${l.maxPerSecondDeviation}`,
    );
  }
  if (r.throttleCost) {
    const c = r.throttleCost;
    out.push(`throttle decision: admitAll ${c.admitAllNs} ns, GatewayThrottle.admit ${c.gatewayThrottleAdmitNs} ns, empty call ${c.emptyCallNs} ns → net ${c.decisionNetNs} ns per decision`);
  }
  if (r.startup) {
    const s = r.startup;
    out.push(
      `start-up: meshgw --help median ${s.helpMedianMs} ms vs node -e 0 ${s.nodeBaselineMedianMs} ms (${times(s.ratio)}, ${s.runs} runs); ${s.modulesLoaded} modules; AWS SDK / Kubernetes loaded: ${s.heavyModulesLoaded.length ? s.heavyModulesLoaded.join(', ') : 'none'}`,
    );
  }
  if (r.failures.length) out.push('', ...r.failures.map((f) => `FAILED ${f.section}: ${f.error}`));
  out.push('', `total ${r.totalSeconds} s`);
  return out.join('\n');
}

const plus = (x: number | undefined) => (x === undefined || !Number.isFinite(x) ? 'n/a' : `${x >= 0 ? '+' : ''}${x.toFixed(2)} ms`);

/** The figures of issue 13's overhead table, each from one run's own baselines. */
export function issue13Figures(r: BenchResults): string[] {
  const out: string[] = [];
  if (r.gateway) {
    const g = r.gateway;
    out.push(`gateway added p50, all features: ${plus(g.addedP50Ms.gatewayAllFeatures)} (bare ${plus(g.addedP50Ms.gateway)}; nginx ${plus(g.addedP50Ms.nginx)})`);
    out.push(`gateway throughput vs direct, all features: ${times(g.ratios.allFeaturesRps)} (bare ${times(g.ratios.gatewayRps)}; nginx ${times(g.ratios.nginxRps ?? NaN)})`);
  }
  if (r.sidecarPair) out.push(`two sidecars added p90 / p99 at ${r.sidecarPair.shape.rps}/s: ${plus(r.sidecarPair.added.p90Ms)} / ${plus(r.sidecarPair.added.p99Ms)}`);
  if (r.mesh) {
    const m = r.mesh;
    const server = m.cpuMsPerHandshake['products-sidecar'];
    const net = server - (m.cpuMsPerHopRequest['products-sidecar'] ?? NaN);
    const floor = typeof m.openssl === 'string' ? m.openssl : `openssl speed floor ${m.openssl.expectedServerMsPerHandshake.toFixed(3)} ms → ${times(m.handshakeVsOpenssl)}`;
    const lib = typeof m.opensslServer === 'string' ? m.opensslServer : `openssl s_server ${m.opensslServer.serverCpuMsPerHandshake.toFixed(2)} ms (${m.opensslServer.handshakes} handshakes)`;
    out.push(`server CPU per full mTLS handshake: ${ms(server)} ms (less one keep-alive request: ${ms(net)} ms); ${floor}; ${lib}`);
  }
  if (r.sidecarPair) {
    const p = r.sidecarPair;
    const list = (o: Record<string, number>) => Object.values(o).map((v) => v.toFixed(1)).join(' / ');
    out.push(`sidecar RSS idle: ${list(p.rssIdleMiB)} MiB; at ${p.shape.rps}/s: ${list(p.rssAtLoadMiB)} MiB (client / server)`);
  }
  if (r.orderFlow) out.push(`POST /orders full flow: ${r.orderFlow.rps.toFixed(0)} orders/s`);
  return out;
}
