/** The local target's scrape targets: every workload's admin port in run.json (the gateway's and each sidecar's). */
import type { LoadedConfig } from '../config/load.js';
import { MeshgwError } from '../errors.js';
import { PROMETHEUS_PATH, type Scrape } from '../metrics/contract.js';
import type { LocalRunState } from '../local/state.js';
import { isScrape, scrapeHttp, type FetchText } from './http-scrape.js';
import type { ScrapeSource, TargetDown } from './types.js';

/** The targets of a run, labelled as Istio's sample Prometheus labels pods: namespace, pod (the replica), app (the service). */
export function localTargets(run: LocalRunState, namespace: string): Scrape['target'][] {
  return run.workloads
    .filter((w) => w.adminUrl)
    .map((w) => ({ namespace, pod: w.name, app: w.service ?? w.name, url: `${w.adminUrl!.replace(/\/$/, '')}${PROMETHEUS_PATH}` }));
}

export interface LocalSourceDeps {
  /** The run record of a live stack, or undefined when none runs. */
  readRun(): Promise<LocalRunState | undefined>;
  fetch?: FetchText;
  timeoutMs?: number;
}

export function notRunning(): MeshgwError {
  return new MeshgwError('STATE_MISSING', 'the local stack is not running: nothing to scrape', 'Run `meshgw up` first (or pass --target aws).');
}

export function createLocalSource(loaded: Pick<LoadedConfig, 'config'>, deps: LocalSourceDeps): ScrapeSource {
  return {
    target: 'local',
    async scrapeAll(signal) {
      // Read each round: a restart (`meshgw certs rotate`, a crashed replica) can move admin ports.
      const run = await deps.readRun();
      if (!run) throw notRunning();
      const targets = localTargets(run, loaded.config.mesh.namespace);
      if (targets.length === 0) throw new MeshgwError('STATE_MISSING', 'the local stack records no admin port to scrape', 'Restart it with `meshgw down` and `meshgw up`: this meshgw serves metrics on every admin port.');
      const results = await Promise.all(targets.map((t) => scrapeHttp(t, { fetch: deps.fetch, timeoutMs: deps.timeoutMs, signal })));
      return { scrapes: results.filter(isScrape), down: results.filter((r): r is TargetDown => !isScrape(r)) };
    },
  };
}
