/** The mesh policies: STRICT mTLS for the namespace, and who may call each service (by SPIFFE principal). */
import { authorizationTable, principal } from '../../config/topology.js';
import type { MeshgwConfig } from '../../config/schema.js';
import { APP_LABEL } from '../labels.js';
import { meta } from './meta.js';
import type { K8sObject } from './types.js';

export const PEER_AUTHENTICATION_NAME = 'default';

/** Named `default` so it is the namespace-wide policy: every workload refuses plaintext. */
export function renderPeerAuthentication(cfg: MeshgwConfig): K8sObject {
  return {
    apiVersion: 'security.istio.io/v1',
    kind: 'PeerAuthentication',
    metadata: meta(PEER_AUTHENTICATION_NAME, cfg.mesh.namespace),
    spec: { mtls: { mode: 'STRICT' } },
  };
}

/** An ALLOW policy on a workload denies every caller not listed: exactly authorizationTable's callers. */
export function renderAuthorizationPolicy(cfg: MeshgwConfig, service: string, callers: string[]): K8sObject {
  return {
    apiVersion: 'security.istio.io/v1',
    kind: 'AuthorizationPolicy',
    metadata: meta(`${service}-callers`, cfg.mesh.namespace, { [APP_LABEL]: service }),
    spec: {
      selector: { matchLabels: { [APP_LABEL]: service } },
      action: 'ALLOW',
      rules: [{ from: [{ source: { principals: callers.map((c) => principal(cfg, c)) } }] }],
    },
  };
}

export function renderPolicies(cfg: MeshgwConfig): K8sObject[] {
  const table = authorizationTable(cfg);
  return [renderPeerAuthentication(cfg), ...Object.entries(table).map(([svc, callers]) => renderAuthorizationPolicy(cfg, svc, callers))];
}
