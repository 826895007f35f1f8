/**
 * The mesh client: one keep-alive pool per named upstream, each connection a mutual-TLS
 * handshake with the workload's own certificate whose server must carry the SPIFFE ID we meant
 * to reach. The gateway routes into it; a sidecar's egress listener is the same client behind a
 * plain listener on the app's private socket. Connections are kept warm (warm-connector.ts).
 */
import { Pool, type Dispatcher } from 'undici';
import type { MeshUpstream } from './contracts.js';
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
}

/** The counters hook: told about every new connection and every refused one, per upstream name. */
export interface MeshClientEvents {
  connected?(name: string, upstream: MeshUpstream): void;
  failed?(name: string, upstream: MeshUpstream, err: Error): void;
}

interface Upstream {
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

  /** The pool of one upstream; undefined for a name the client was not built with. */
  dispatcher(name: string): Dispatcher | undefined {
    return this.#upstreams.get(name)?.pool;
  }

  /** Connections open to one upstream now (in use, idle or spare). */
  openConnections(name: string): number {
    return this.#upstreams.get(name)?.connector.live ?? 0;
  }

  /** Opens each upstream's warm connections; resolves when every attempt has settled. */
  async warm(): Promise<void> {
    await Promise.all([...this.#upstreams.values()].map((u) => u.connector.warm()));
  }

  /**
   * Builds pools with new material and warms them before the swap, so traffic after a rotation
   * does not pay the handshakes. Requests already on the old pools finish there, in the background:
   * each is bounded by requestTimeoutMs anyway, so that is how long the old pools may live.
   */
  async reload(material: TlsMaterial): Promise<void> {
    const fresh = this.#build(material);
    await Promise.all([...fresh.values()].map((u) => u.connector.warm()));
    const old = this.#upstreams;
    this.#upstreams = fresh;
    void closeUpstreams(old.values(), this.opts.requestTimeoutMs);
  }

  async close(): Promise<void> {
    await closeUpstreams(this.#upstreams.values(), this.opts.drainTimeoutMs);
  }

  #build(material: TlsMaterial | undefined): Map<string, Upstream> {
    const out = new Map<string, Upstream>();
    for (const [name, upstream] of this.targets) out.set(name, this.#upstream(name, upstream, material));
    return out;
  }

  #upstream(name: string, upstream: MeshUpstream, material: TlsMaterial | undefined): Upstream {
    const url = new URL(upstream.origin);
    if (url.protocol !== 'https:' && url.protocol !== 'http:') throw new Error(`upstream ${upstream.origin}: expected an https:// (mTLS) or http:// origin`);
    if (url.protocol === 'https:' && !material) throw new Error(`upstream ${upstream.origin} needs mTLS but no TLS material was given`);
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
    const connector = new WarmConnector({
      origin: url.origin,
      connect: { ...tls, timeout: this.opts.connectTimeoutMs },
      floor: Math.min(upstream.warmConnections ?? 0, this.opts.connections),
      events: {
        connected: () => this.events.connected?.(name, upstream),
        failed: (err) => this.events.failed?.(name, upstream, err),
      },
    });
    const pool = new Pool(url.origin, {
      connections: this.opts.connections,
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
async function closeUpstreams(upstreams: Iterable<Upstream>, graceMs: number): Promise<void> {
  const list = [...upstreams];
  for (const u of list) u.connector.close();
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<'expired'>((resolve) => {
    timer = setTimeout(() => resolve('expired'), graceMs);
  });
  const outcome = await Promise.race([Promise.allSettled(list.map((u) => u.pool.close())).then(() => 'closed' as const), expired]);
  clearTimeout(timer);
  if (outcome === 'expired') await Promise.allSettled(list.map((u) => u.pool.destroy()));
}
