/**
 * The mesh client: for each named upstream a cluster of its replicas (cluster.ts), each replica a
 * keep-alive pool whose every connection is a mutual-TLS handshake with the workload's own
 * certificate, the server carrying the SPIFFE ID we meant to reach. The gateway routes into it; a
 * sidecar's egress listener is the same client behind a plain listener on the app's private
 * socket. Connections are kept warm (warm-connector.ts), split across the replicas.
 */
import { Pool } from 'undici';
import { Endpoint } from './balancer.js';
import { UpstreamCluster } from './cluster.js';
import type { MeshUpstream } from './contracts.js';
import { clusterStat, type StatSink } from './counters.js';
import { spiffeIdentityCheck } from './identity.js';
import type { TlsMaterial } from './tls-material.js';
import { meshSecureContextOptions } from './tls-settings.js';
import { WarmConnector } from './warm-connector.js';

export interface MeshClientOptions {
  /** Connections at most per upstream. */
  connections: number;
  keepAliveTimeoutMs: number;
  connectTimeoutMs: number;
  /** Bound on waiting for an answer's headers, and between body chunks. */
  requestTimeoutMs: number;
  /** How long close() and a reload let requests on the old pools finish. */
  drainTimeoutMs: number;
  /** Where the clusters' counters go (Envoy's cluster.<name>.* names); nowhere when unset. */
  stats?: StatSink;
  /** The balancer's coin; Math.random unless a test needs it fixed. */
  random?: () => number;
  /** Monotonic milliseconds for deadlines and ejections; performance.now unless a test gives its own. */
  nowMs?: () => number;
}

/** The counters hook: told about every new connection and every refused one, per upstream name. */
export interface MeshClientEvents {
  connected?(name: string, upstream: MeshUpstream): void;
  failed?(name: string, upstream: MeshUpstream, err: Error): void;
}

const NO_STATS: StatSink = { inc() {} };
const monotonicMs = (): number => performance.now();

interface Upstream {
  cluster: UpstreamCluster;
  endpoints: Endpoint[];
  /** How each replica's pool is sized, kept to rebuild the pools on a reload. */
  sizing: PoolSizing;
}

interface PoolSizing {
  connections: number;
  floor: number;
}

/** One replica's connection pool and the connector that keeps it warm. */
interface Transport {
  pool: Pool;
  connector: WarmConnector;
}

export class MeshClient {
  #upstreams = new Map<string, Upstream>();

  constructor(
    private readonly targets: ReadonlyMap<string, MeshUpstream>,
    material: TlsMaterial | undefined,
    private readonly opts: MeshClientOptions,
    private readonly events: MeshClientEvents = {},
  ) {
    this.#upstreams = this.#build(material);
  }

  /** The cluster of one upstream (balancing, retries, limits); undefined for a name the client was not built with. */
  dispatcher(name: string): UpstreamCluster | undefined {
    return this.#upstreams.get(name)?.cluster;
  }

  /** Connections open to one upstream now (in use, idle or spare), over all its replicas. */
  openConnections(name: string): number {
    let n = 0;
    for (const e of this.#upstreams.get(name)?.endpoints ?? []) n += e.connector.live;
    return n;
  }

  /** Opens each upstream's warm connections; resolves when every attempt has settled. */
  async warm(): Promise<void> {
    await Promise.all([...this.#upstreams.values()].flatMap((u) => u.endpoints.map((e) => e.connector.warm())));
  }

  /**
   * Builds pools with new material and warms them before the swap, so traffic after a rotation
   * does not pay the handshakes. Only the pools change: each cluster and its replicas stay, with
   * their outlier state, retry budget and counts, as an Envoy SDS secret update swaps a cluster's
   * TLS context without recreating its hosts (an ejected replica stays ejected). Requests already
   * on the old pools finish there, in the background: each is bounded by requestTimeoutMs anyway,
   * so that is how long the old pools may live.
   */
  async reload(material: TlsMaterial): Promise<void> {
    const swaps: { endpoint: Endpoint; transport: Transport }[] = [];
    for (const [name, u] of this.#upstreams) {
      const upstream = this.targets.get(name)!;
      for (const endpoint of u.endpoints) swaps.push({ endpoint, transport: this.#transport(name, upstream, endpoint.origin, material, u.sizing) });
    }
    await Promise.all(swaps.map((s) => s.transport.connector.warm()));
    const old = swaps.map((s) => s.endpoint.replaceTransport(s.transport.pool, s.transport.connector));
    void closeTransports(old, this.opts.requestTimeoutMs);
  }

  async close(): Promise<void> {
    const transports: Transport[] = [];
    for (const u of this.#upstreams.values()) {
      u.cluster.close();
      transports.push(...u.endpoints);
    }
    await closeTransports(transports, this.opts.drainTimeoutMs);
  }

  #build(material: TlsMaterial | undefined): Map<string, Upstream> {
    const out = new Map<string, Upstream>();
    for (const [name, upstream] of this.targets) out.set(name, this.#upstream(name, upstream, material));
    return out;
  }

  #upstream(name: string, upstream: MeshUpstream, material: TlsMaterial | undefined): Upstream {
    const origins = upstream.replicaOrigins && upstream.replicaOrigins.length > 0 ? upstream.replicaOrigins : [upstream.origin];
    const policy = upstream.trafficPolicy;
    const connections = policy ? Math.min(this.opts.connections, policy.connectionPool.maxConnections) : this.opts.connections;
    // The warm connections are the caller's budget for the service, shared out across its replicas.
    const floor = Math.min(Math.ceil((upstream.warmConnections ?? 0) / origins.length), connections);
    const stats = this.opts.stats ?? NO_STATS;
    const sizing = { connections, floor };
    const endpoints = origins.map((origin) => {
      const t = this.#transport(name, upstream, origin, material, sizing);
      const at = new URL(origin).origin;
      return new Endpoint(at, t.pool, t.connector, clusterStat(name, `endpoint.${at}.rq_total`));
    });
    const cluster = new UpstreamCluster(name, endpoints, policy, connections, { stats, nowMs: this.opts.nowMs ?? monotonicMs, random: this.opts.random ?? Math.random });
    return { cluster, endpoints, sizing };
  }

  #transport(name: string, upstream: MeshUpstream, origin: string, material: TlsMaterial | undefined, { connections, floor }: PoolSizing): Transport {
    const stats = this.opts.stats ?? NO_STATS;
    const url = new URL(origin);
    if (url.protocol !== 'https:' && url.protocol !== 'http:') throw new Error(`upstream ${origin}: expected an https:// (mTLS) or http:// origin`);
    if (url.protocol === 'https:' && !material) throw new Error(`upstream ${origin} needs mTLS but no TLS material was given`);
    const tls =
      url.protocol === 'https:' && material
        ? {
            ...meshSecureContextOptions(material),
            rejectUnauthorized: true,
            checkServerIdentity: spiffeIdentityCheck(upstream.expectedSpiffeId),
            // No resumption: every connection is a full mutual handshake, verified against the
            // current CA and counted; warm connections make that affordable.
            maxCachedSessions: 0,
          }
        : {};
    const connectFail = clusterStat(name, 'upstream_cx_connect_fail');
    const connector = new WarmConnector({
      origin: url.origin,
      connect: { ...tls, timeout: this.opts.connectTimeoutMs },
      floor,
      events: {
        connected: () => this.events.connected?.(name, upstream),
        failed: (err) => {
          stats.inc(connectFail);
          this.events.failed?.(name, upstream, err);
        },
      },
    });
    const pool = new Pool(url.origin, {
      connections,
      pipelining: 1,
      keepAliveTimeout: this.opts.keepAliveTimeoutMs,
      keepAliveMaxTimeout: this.opts.keepAliveTimeoutMs,
      headersTimeout: this.opts.requestTimeoutMs,
      bodyTimeout: this.opts.requestTimeoutMs,
      connect: connector.connect,
    });
    return { pool, connector };
  }
}

/** Closes pools gracefully (queued requests finish), destroying whatever is left after `graceMs`. */
async function closeTransports(list: readonly Transport[], graceMs: number): Promise<void> {
  for (const u of list) u.connector.close();
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<'expired'>((resolve) => {
    timer = setTimeout(() => resolve('expired'), graceMs);
  });
  const outcome = await Promise.race([Promise.allSettled(list.map((u) => u.pool.close())).then(() => 'closed' as const), expired]);
  clearTimeout(timer);
  if (outcome === 'expired') await Promise.allSettled(list.map((u) => u.pool.destroy()));
}
