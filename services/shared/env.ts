import type { ListenAddress } from '../../src/dataplane/listener.js';

/** A setting missing or malformed in a service's environment; main prints it as one line and exits 2. */
export class ServiceEnvError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ServiceEnvError';
  }
}

export type Env = Record<string, string | undefined>;

export function requiredString(env: Env, name: string): string {
  const value = env[name];
  if (value === undefined || value === '') throw new ServiceEnvError(`${name} is not set`);
  return value;
}

export function integerIn(env: Env, name: string, min: number, max: number, fallback?: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') {
    if (fallback !== undefined) return fallback;
    throw new ServiceEnvError(`${name} is not set`);
  }
  if (!/^\d+$/.test(raw) || Number(raw) < min || Number(raw) > max) {
    throw new ServiceEnvError(`${name} must be a whole number from ${min} to ${max} (got ${JSON.stringify(raw)})`);
  }
  return Number(raw);
}

/** A backend base URL: plain http(s) origin, optionally with a path prefix, no query. */
export function httpUrl(env: Env, name: string): string {
  const raw = requiredString(env, name);
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new ServiceEnvError(`${name} must be a URL such as http://127.0.0.1:8081 (got ${JSON.stringify(raw)})`);
  }
  if ((url.protocol !== 'http:' && url.protocol !== 'https:') || url.search || url.hash) {
    throw new ServiceEnvError(`${name} must be an http:// URL without query (got ${JSON.stringify(raw)})`);
  }
  return url.href.replace(/\/+$/, '');
}

/** An absolute path for a Unix socket, or undefined when the variable is unset. */
export function socketPath(env: Env, name: string): string | undefined {
  const raw = env[name];
  if (raw === undefined || raw === '') return undefined;
  if (!raw.startsWith('/')) throw new ServiceEnvError(`${name} must be an absolute path to a Unix socket (got ${JSON.stringify(raw)})`);
  return raw;
}

/** Settings every service reads: where to listen, its name, and the body limit. */
export interface CommonEnv {
  /**
   * SOCKET_PATH (local: the private Unix socket only the app and its sidecar can open), else
   * HOST:PORT (an image: the app's port inside its pod, reached only by the pod's own sidecar).
   */
  listen: ListenAddress;
  serviceName: string;
  maxBodyBytes: number;
}

export function readCommonEnv(env: Env, defaultName: string, defaultMaxBodyBytes: number): CommonEnv {
  const socket = socketPath(env, 'SOCKET_PATH');
  return {
    listen: socket ? { socketPath: socket } : { host: env.HOST || '127.0.0.1', port: integerIn(env, 'PORT', 0, 65535) },
    serviceName: env.SERVICE_NAME || defaultName,
    maxBodyBytes: integerIn(env, 'MAX_BODY_BYTES', 1, 64 * 1024 * 1024, defaultMaxBodyBytes),
  };
}

/** Where a stateful service keeps its data: a SQLite file in DATA_DIR (local), or a DynamoDB table (aws). */
export type StorageEnv = { type: 'sqlite'; file: string } | { type: 'dynamodb'; tableName: string };

// DynamoDB's own rule for table names.
const TABLE_NAME = /^[A-Za-z0-9_.-]{3,255}$/;

/**
 * DATA_DIR (an absolute folder, the app's own, made 0700) or DYNAMODB_TABLE, exactly one: a service
 * with nowhere durable to write refuses to start rather than keep users and orders in memory.
 */
export function readStorageEnv(env: Env, service: string): StorageEnv {
  const dataDir = env.DATA_DIR || undefined;
  const table = env.DYNAMODB_TABLE || undefined;
  if (dataDir && table) throw new ServiceEnvError('set DATA_DIR (SQLite) or DYNAMODB_TABLE (DynamoDB), not both');
  if (table) {
    if (!TABLE_NAME.test(table)) throw new ServiceEnvError(`DYNAMODB_TABLE must be a DynamoDB table name (got ${JSON.stringify(table)})`);
    return { type: 'dynamodb', tableName: table };
  }
  if (!dataDir) throw new ServiceEnvError('DATA_DIR (a folder for the SQLite file) or DYNAMODB_TABLE is not set');
  if (!dataDir.startsWith('/')) throw new ServiceEnvError(`DATA_DIR must be an absolute path (got ${JSON.stringify(dataDir)})`);
  return { type: 'sqlite', file: `${dataDir.replace(/\/+$/, '')}/${service}.sqlite` };
}
