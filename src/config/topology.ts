import type { MeshgwConfig } from './schema.js';

/** The gateway's workload name: its ServiceAccount on EKS and its certificate's identity locally. */
export const GATEWAY_WORKLOAD = 'gateway';

/** SPIFFE ID as Istio writes it: spiffe://<trust-domain>/ns/<namespace>/sa/<name>. */
export function spiffeId(cfg: MeshgwConfig, workload: string): string {
  return `spiffe://${cfg.mesh.trustDomain}/ns/${cfg.mesh.namespace}/sa/${workload}`;
}

/** Istio's principal form (SPIFFE ID without the scheme), as used in AuthorizationPolicy. */
export function principal(cfg: MeshgwConfig, workload: string): string {
  return spiffeId(cfg, workload).slice('spiffe://'.length);
}

export function serviceDnsName(cfg: MeshgwConfig, workload: string): string {
  return `${workload}.${cfg.mesh.namespace}.svc.cluster.local`;
}

export function serviceNames(cfg: MeshgwConfig): string[] {
  return Object.keys(cfg.services);
}

/** Every workload that holds a mesh identity: the services and the gateway. */
export function workloadNames(cfg: MeshgwConfig): string[] {
  return [...serviceNames(cfg), GATEWAY_WORKLOAD];
}

/**
 * Who may call whom: for each service, the workloads allowed to open a connection to it.
 * The gateway may call every routed service; a service may call exactly the backends it declares.
 */
export function authorizationTable(cfg: MeshgwConfig): Record<string, string[]> {
  const table: Record<string, string[]> = {};
  for (const svc of serviceNames(cfg)) table[svc] = [GATEWAY_WORKLOAD];
  for (const [caller, spec] of Object.entries(cfg.services)) {
    for (const callee of spec.backends) table[callee].push(caller);
  }
  for (const callers of Object.values(table)) callers.sort();
  return table;
}

/** The service that serves a request path, by longest matching prefix. */
export function routeFor(cfg: MeshgwConfig, requestPath: string): string | undefined {
  let best: string | undefined;
  let bestLen = -1;
  for (const [svc, spec] of Object.entries(cfg.services)) {
    const p = spec.pathPrefix;
    if ((requestPath === p || requestPath.startsWith(p + '/') || requestPath.startsWith(p + '?')) && p.length > bestLen) {
      best = svc;
      bestLen = p.length;
    }
  }
  return best;
}
