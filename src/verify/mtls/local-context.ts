import type { GatewayEndpoint, LocalMeshView } from '../target.js';

/** What the local mtls checks run against: the mesh (sidecars, PKI) and the gateway for the legitimate flow. */
export interface LocalMtlsContext {
  mesh: LocalMeshView;
  endpoint: GatewayEndpoint;
}
