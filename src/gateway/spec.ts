/**
 * The gateway process's contract: `node dist/src/gateway/main.js <spec.json>`. Written by the
 * local supervisor (mode 0600: it carries API key values and names key files).
 */
import type { GatewayConfig } from '../config/schema.js';
import type { MeshUpstream, TlsFiles } from '../dataplane/contracts.js';

export interface GatewayRoute {
  service: string;
  pathPrefix: string;
  requireApiKey: boolean;
  upstream: MeshUpstream;
}

export interface ApiKeyRecord {
  /** Stable id, like API Gateway's key id (not secret). */
  id: string;
  name: string;
  plan: string;
  /** The secret value clients send in x-api-key. */
  value: string;
}

/** argv[2] of `node dist/src/gateway/main.js`. */
export interface GatewaySpec {
  kind: 'gateway';
  host: string;
  port: number;
  /** Requests arrive as /<stage>/<service path>, as on an API Gateway invoke URL; the stage is stripped. */
  stage: string;
  gateway: GatewayConfig;
  routes: GatewayRoute[];
  apiKeys: ApiKeyRecord[];
  /** The gateway is a mesh workload: it reaches services only over mTLS with this identity. */
  tls: TlsFiles;
  spiffeId: string;
  /** Loopback port of the gateway's stats listener (GET /stats, GET /__meshgw/stats: the mesh client's cluster.<service>.* counters); none when unset, 0 for any free port. */
  adminPort?: number;
  /** The mesh namespace (config mesh.namespace): the *_namespace labels and service hosts of the gateway's metrics; the SPIFFE ID's /ns/ segment when unset. */
  namespace?: string;
  /** Where usage-plan quota counters persist (mode 0600), so that a restart does not reset them; memory only when unset. */
  quotaFile?: string;
}
