import type { PeerCertificate } from 'node:tls';
import { Pool } from 'undici';
import type { GatewayRoute, MeshUpstream } from '../local/specs.js';

/** The gateway's mesh credentials, read from the spec's TLS files (PEM). */
export interface TlsMaterial {
  ca: string;
  cert: string;
  key: string;
}

export interface UpstreamOptions {
  /** Connections kept per upstream. */
  connections: number;
  keepAliveTimeoutMs: number;
  connectTimeoutMs: number;
}

/** An error of the same code Node uses for a hostname mismatch, naming the SPIFFE IDs. */
function sanMismatch(expected: string, got: string): Error {
  const err = new Error(`upstream certificate does not carry ${expected} (SAN: ${got || 'none'})`) as Error & { code: string };
  err.code = 'ERR_TLS_CERT_ALTNAME_INVALID';
  return err;
}

/** The URI SANs of a peer certificate (Node formats subjectaltname as "DNS:a, URI:spiffe://..."). */
export function uriSans(cert: Pick<PeerCertificate, 'subjectaltname'>): string[] {
  const san = cert.subjectaltname ?? '';
  return san
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s.startsWith('URI:'))
    .map((s) => s.slice(4));
}

/**
 * Accepts the server only if its certificate names exactly the workload the gateway meant to
 * reach; the chain itself is still checked against the mesh CA by TLS. Replaces the hostname
 * check, which means nothing for 127.0.0.1.
 */
export function spiffeIdentityCheck(expectedSpiffeId: string): (host: string, cert: PeerCertificate) => Error | undefined {
  return (_host, cert) => (uriSans(cert).includes(expectedSpiffeId) ? undefined : sanMismatch(expectedSpiffeId, cert.subjectaltname ?? ''));
}

export function createUpstreamPool(upstream: MeshUpstream, tls: TlsMaterial | undefined, opts: UpstreamOptions): Pool {
  const url = new URL(upstream.origin);
  const base = { connections: opts.connections, pipelining: 1, keepAliveTimeout: opts.keepAliveTimeoutMs };
  if (url.protocol === 'http:') return new Pool(url.origin, { ...base, connect: { timeout: opts.connectTimeoutMs } });
  if (url.protocol !== 'https:') throw new Error(`upstream ${upstream.origin}: expected an http:// or https:// origin`);
  if (!tls) throw new Error(`upstream ${upstream.origin} needs mTLS but the gateway has no TLS material`);
  return new Pool(url.origin, {
    ...base,
    connect: {
      timeout: opts.connectTimeoutMs,
      ca: tls.ca,
      cert: tls.cert,
      key: tls.key,
      rejectUnauthorized: true,
      checkServerIdentity: spiffeIdentityCheck(upstream.expectedSpiffeId),
      // No session resumption: every connection is a full handshake, so every one checks the SAN.
      maxCachedSessions: 0,
    },
  });
}

/** One pool per route, keyed by service; built together so a reload swaps them all at once. */
export function createUpstreamPools(routes: readonly GatewayRoute[], tls: TlsMaterial | undefined, opts: UpstreamOptions): Map<string, Pool> {
  const pools = new Map<string, Pool>();
  for (const r of routes) pools.set(r.service, createUpstreamPool(r.upstream, tls, opts));
  return pools;
}

/** Closes pools gracefully (queued requests finish), destroying whatever is left after `graceMs`. */
export async function closeUpstreamPools(pools: Iterable<Pool>, graceMs: number): Promise<void> {
  const list = [...pools];
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<'expired'>((resolve) => {
    timer = setTimeout(() => resolve('expired'), graceMs);
  });
  const outcome = await Promise.race([Promise.allSettled(list.map((p) => p.close())).then(() => 'closed' as const), expired]);
  clearTimeout(timer);
  if (outcome === 'expired') await Promise.allSettled(list.map((p) => p.destroy()));
}
