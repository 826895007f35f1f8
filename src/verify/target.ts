/**
 * What a verify scenario runs against, whichever the target: the same checks drive a local stack
 * and an API Gateway invoke URL.
 */
import type { MeshgwConfig } from '../config/schema.js';
import type { TlsFiles } from '../dataplane/contracts.js';
import type { ApiKeyRecord } from '../gateway/spec.js';

export interface GatewayEndpoint {
  target: 'local' | 'aws';
  config: MeshgwConfig;
  /** Base URL including the stage: http://127.0.0.1:8080/prod or https://<id>.execute-api.<region>.amazonaws.com/prod */
  baseUrl: string;
  /** Every configured key with its secret value (local: generated at up; aws: read through the API Gateway API). */
  apiKeys: ApiKeyRecord[];
}

/** A local mesh workload as verify mtls sees it (from the local run state). */
export interface LocalMeshWorkload {
  name: string;
  /** The service a replica belongs to ("users" for "users-2"); unset for a service's only replica. */
  service?: string;
  spiffeId: string;
  /** https://127.0.0.1:P, the STRICT inbound listener (absent for the gateway, which only calls out). */
  inboundUrl?: string;
  /** http://127.0.0.1:P, counters and config dump. */
  adminUrl?: string;
  /** The app's private Unix socket (services only); its folder must be 0700. */
  appSocket?: string;
  tls: TlsFiles;
}

/** An OS process of the local stack, as the supervisor recorded it. */
export interface LocalMeshProcess {
  name: string;
  role: 'app' | 'sidecar' | 'gateway';
  pid: number;
}

export interface LocalMeshView {
  config: MeshgwConfig;
  /** <stateDir>/pki: ca.crt, ca.key (0600) and one folder per workload. */
  pkiDir: string;
  workloads: LocalMeshWorkload[];
  /** The stack's running processes: whatever TCP port they hold is listed and probed. */
  processes: LocalMeshProcess[];
}
