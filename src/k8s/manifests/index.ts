/** Renders every object `meshgw deploy` applies, in apply order (namespace and identities first). */
import { stringify } from 'yaml';
import { renderIngress } from './gateway.js';
import { renderPolicies } from './policies.js';
import { renderTrafficPolicies } from './resilience.js';
import { renderTracingCollector, renderTracingTelemetry } from './telemetry.js';
import type { K8sObject, RenderInput } from './types.js';
import { renderNamespace, renderTokenSecret, renderWorkloads } from './workloads.js';

export type { K8sObject, RenderInput } from './types.js';

export function renderManifests(input: RenderInput & { tokenSecret: string }): K8sObject[] {
  const cfg = input.config;
  return [
    renderNamespace(cfg),
    renderTokenSecret(cfg, input.tokenSecret),
    ...renderPolicies(cfg),
    ...renderWorkloads(input),
    // Timeouts, retries, load balancing, outlier detection and connection limits (services.<name>.trafficPolicy).
    ...renderTrafficPolicies(cfg),
    ...renderIngress(cfg, input.ingressNodePort),
    // Mesh tracing to X-Ray: the collector lives in a namespace of its own (down removes it after the mesh's).
    ...renderTracingCollector(cfg),
    renderTracingTelemetry(cfg),
  ];
}

/** Multi-document YAML, as `--dry-run` prints it. Secret data is masked: the output is for review. */
export function manifestsToYaml(objects: K8sObject[], opts: { maskSecrets?: boolean } = {}): string {
  return objects
    .map((o) => {
      const shown = opts.maskSecrets !== false && o.kind === 'Secret' ? { ...o, data: Object.fromEntries(Object.keys((o.data as object) ?? {}).map((k) => [k, '<redacted>'])) } : o;
      return stringify(shown, { lineWidth: 0 });
    })
    .join('---\n');
}
