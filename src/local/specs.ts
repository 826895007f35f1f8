/**
 * The contracts between the local supervisor and the processes it starts. The supervisor writes
 * one spec file per gateway / sidecar (mode 0600: it names key files) and passes its path as the
 * only argument; services take their settings from the environment, as their containers do on EKS.
 * Every address is on 127.0.0.1; ports are chosen by the supervisor at start-up.
 */
import type { GatewayConfig } from '../config/schema.js';

/** Where a workload's mesh credentials are (PEM files under <stateDir>/pki). */
export interface TlsFiles {
  caFile: string;
  certFile: string;
  /** Mode 0600; read by the process, never logged. */
  keyFile: string;
}

/** An upstream reached over mTLS: the sidecar inbound listener of a service. */
export interface MeshUpstream {
  /** e.g. https://127.0.0.1:41234 */
  origin: string;
  /** The SPIFFE ID the server's certificate must carry (checked on every handshake). */
  expectedSpiffeId: string;
}

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
}

export interface EgressListener {
  backend: string;
  /** Plain HTTP on 127.0.0.1 where the app sends requests meant for `backend`. */
  port: number;
  upstream: MeshUpstream;
}

/** argv[2] of `node dist/src/mesh/sidecar-main.js`. */
export interface SidecarSpec {
  kind: 'sidecar';
  workload: string;
  spiffeId: string;
  host: string;
  /** The inbound mTLS listener (STRICT). */
  inboundPort: number;
  /** The app behind this sidecar, plain HTTP on loopback. */
  appOrigin: string;
  /** SPIFFE IDs allowed to call this workload; anyone else gets 403 and rbac.denied. */
  allowedCallers: string[];
  egress: EgressListener[];
  /** Counters and config dump, loopback only. */
  adminPort: number;
  tls: TlsFiles;
}

/** Environment a service process reads (the same names its container gets on EKS). */
export interface ServiceEnv {
  HOST: string;
  PORT: string;
  SERVICE_NAME: string;
  /** users only: the HMAC secret for login tokens. */
  TOKEN_SECRET?: string;
  /** orders only: where users and products are reached (its sidecar's egress listeners). */
  USERS_URL?: string;
  PRODUCTS_URL?: string;
}
