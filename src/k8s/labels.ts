/** Labels and names every object meshgw applies carries, so that prune and cleanup can find them. */
export const MANAGED_BY_LABEL = 'app.kubernetes.io/managed-by';
export const MANAGED_BY_VALUE = 'meshgw';
export const MANAGED_SELECTOR = `${MANAGED_BY_LABEL}=${MANAGED_BY_VALUE}`;
/** The server-side apply field manager: the owner of every field meshgw sets. */
export const FIELD_MANAGER = 'meshgw';
export const APP_LABEL = 'app.kubernetes.io/name';
export const PART_OF_LABEL = 'app.kubernetes.io/part-of';
/** Port each service container listens on (PORT); the Service exposes it as `http`. */
export const SERVICE_PORT = 8080;
export const GATEWAY_NAME = 'meshgw';
/** Port of the Gateway's HTTP listener; its Service port gets the NodePort the NLB targets. */
export const GATEWAY_LISTENER_PORT = 80;
export const TOKEN_SECRET_NAME = 'meshgw-token';
export const ISTIO_NAMESPACE = 'istio-system';
