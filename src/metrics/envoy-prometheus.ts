/**
 * The data plane's Envoy-named counters (dataplane/counters.ts) served ALSO in Prometheus form,
 * named as an Istio proxy's /stats/prometheus names them (envoy-names.ts). A prom-client custom
 * collector: nothing is counted twice, each scrape reads the Counters as they are.
 */
import { Counter, Gauge, type Registry } from 'prom-client';
import type { Counters } from '../dataplane/counters.js';
import { envoyPrometheusStat, isEnvoyGauge, type EnvoyNaming, type PrometheusStat } from './envoy-names.js';

interface Family {
  gauge: boolean;
  labelNames: string[];
  /** label key → series; several counters may add up into one series (the egress listeners). */
  series: Map<string, { labels: Record<string, string>; value: number }>;
}

function seriesKey(labels: Record<string, string>): string {
  return Object.keys(labels)
    .sort()
    .map((k) => `${k}=${labels[k]}`)
    .join(',');
}

export class EnvoyStatsCollector {
  /** counter name → its Prometheus stat, or null when Envoy has no such stat (memoised: regexes run once per name). */
  readonly #mapped = new Map<string, { stat: PrometheusStat; gauge: boolean } | null>();
  readonly #registered = new Set<string>();
  #families = new Map<string, Family>();

  constructor(
    private readonly registry: Registry,
    private readonly counters: Counters,
    private readonly naming: EnvoyNaming,
  ) {}

  /** Reads the Counters and registers any metric name not seen before; call it before registry.metrics(). */
  refresh(): void {
    const families = new Map<string, Family>();
    for (const [counter, value] of Object.entries(this.counters.snapshot())) {
      const m = this.#map(counter);
      if (!m) continue;
      let f = families.get(m.stat.name);
      if (!f) families.set(m.stat.name, (f = { gauge: m.gauge, labelNames: Object.keys(m.stat.labels), series: new Map() }));
      const key = seriesKey(m.stat.labels);
      const s = f.series.get(key);
      if (s) s.value += value;
      else f.series.set(key, { labels: m.stat.labels, value });
    }
    this.#families = families;
    for (const [name, f] of families) if (!this.#registered.has(name)) this.#register(name, f);
  }

  #map(counter: string): { stat: PrometheusStat; gauge: boolean } | null {
    let m = this.#mapped.get(counter);
    if (m === undefined) {
      const envoyName = this.naming(counter);
      m = envoyName ? { stat: envoyPrometheusStat(envoyName), gauge: isEnvoyGauge(envoyName) } : null;
      this.#mapped.set(counter, m);
    }
    return m;
  }

  #register(name: string, f: Family): void {
    this.#registered.add(name);
    const families = () => this.#families.get(name);
    const help = `Envoy's ${name.slice('envoy_'.length)}, as an Istio proxy reports it.`;
    if (f.gauge) {
      new Gauge({
        name,
        help,
        labelNames: f.labelNames,
        registers: [this.registry],
        collect() {
          this.reset();
          for (const s of families()?.series.values() ?? []) this.set(s.labels, s.value);
        },
      });
    } else {
      new Counter({
        name,
        help,
        labelNames: f.labelNames,
        registers: [this.registry],
        collect() {
          this.reset();
          for (const s of families()?.series.values() ?? []) this.inc(s.labels, Math.max(0, s.value));
        },
      });
    }
  }
}
