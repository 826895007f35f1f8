/**
 * What the local supervisor hands a service process: its environment, the same names its
 * container gets on EKS. The gateway's and sidecars' specs live with them (gateway/spec.ts,
 * mesh/spec.ts), the mesh contracts in dataplane/contracts.ts.
 */

/** Environment a service process reads. Locally it listens on a private Unix socket; in an image on HOST:PORT. */
export interface ServiceEnv {
  /** Local: the app's Unix socket, in a folder (mode 0700) shared only with its sidecar. */
  SOCKET_PATH?: string;
  /** Images: where the app listens inside its pod. */
  HOST?: string;
  PORT?: string;
  SERVICE_NAME: string;
  /** users only: the HMAC secret for login tokens. */
  TOKEN_SECRET?: string;
  /** orders only: base URLs of users and products (their sidecar egress listeners). */
  USERS_URL?: string;
  PRODUCTS_URL?: string;
  /** Local: the egress sockets those URLs are reached through. */
  USERS_SOCKET?: string;
  PRODUCTS_SOCKET?: string;
}
