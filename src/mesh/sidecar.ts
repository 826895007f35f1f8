/**
 * A meshgw sidecar: the STRICT inbound listener in front of one app, one egress listener per
 * backend, and the admin listener. Everything it touches from outside (file reads, the log sink,
 * timeouts) comes in through `deps`; `sidecar-main.ts` wires signals and stdout.
 */
import { readFile } from 'node:fs/promises';
import type { Server } from 'node:net';
import type http from 'node:http';
import type https from 'node:https';
import { Pool } from 'undici';
import type { SidecarSpec } from '../local/specs.js';
import { createAdminServer, type ConfigDump } from './admin.js';
import { loadTlsMaterial, type ReadText, type TlsMaterial } from './credentials.js';
import { createEgressServer, createUpstreamPool } from './egress.js';
import { INBOUND_MIN_VERSION, createInboundServer, reloadInbound, type InboundMode, type Refusal } from './inbound.js';
import type { SidecarLog } from './log.js';
import { Counters, seedCounters } from './stats.js';

export interface SidecarDeps {
  readText?: ReadText;
  log?: SidecarLog;
  /** STRICT unless a test wants a misconfigured sidecar. */
  mode?: InboundMode;
  connectTimeoutMs?: number;
  requestTimeoutMs?: number;
  handshakeTimeoutMs?: number;
  /** How long stop() waits for in-flight requests before cutting connections. */
  drainTimeoutMs?: number;
}

export interface SidecarAddresses {
  inboundPort: number;
  adminPort: number;
  egress: Record<string, number>;
}

export type ReloadResult = { type: 'reloaded'; fingerprint: string; notAfter: string } | { type: 'failed'; error: string };

export interface Sidecar {
  readonly counters: Counters;
  start(): Promise<SidecarAddresses>;
  /** Re-reads the TLS files: new handshakes (in and out) use them; open connections finish undisturbed. */
  reload(): Promise<ReloadResult>;
  /** Stops accepting, lets in-flight requests finish (bounded by drainTimeoutMs), closes pools. */
  stop(): Promise<void>;
  configDump(): ConfigDump;
}

const MAX_RECENT_REFUSALS = 50;
const DEFAULTS = { connectTimeoutMs: 5_000, requestTimeoutMs: 30_000, handshakeTimeoutMs: 10_000, drainTimeoutMs: 10_000 };

function listen(server: Server, port: number, host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const onError = (err: Error) => reject(err);
    server.once('error', onError);
    server.listen(port, host, () => {
      server.off('error', onError);
      const addr = server.address();
      resolve(typeof addr === 'object' && addr ? addr.port : port);
    });
  });
}

function closeServer(server: http.Server | https.Server, drainMs: number): Promise<void> {
  if (!server.listening) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(() => server.closeAllConnections(), drainMs);
    server.close(() => {
      clearTimeout(timer);
      resolve();
    });
    server.closeIdleConnections();
  });
}

export function createSidecar(spec: SidecarSpec, deps: SidecarDeps = {}): Sidecar {
  const readText: ReadText = deps.readText ?? ((file) => readFile(file, 'utf8'));
  const log: SidecarLog = deps.log ?? (() => undefined);
  const mode: InboundMode = deps.mode ?? 'STRICT';
  const t = {
    connectTimeoutMs: deps.connectTimeoutMs ?? DEFAULTS.connectTimeoutMs,
    requestTimeoutMs: deps.requestTimeoutMs ?? DEFAULTS.requestTimeoutMs,
    handshakeTimeoutMs: deps.handshakeTimeoutMs ?? DEFAULTS.handshakeTimeoutMs,
    drainTimeoutMs: deps.drainTimeoutMs ?? DEFAULTS.drainTimeoutMs,
  };
  const counters = new Counters();
  seedCounters(counters, spec.egress.map((e) => e.backend));

  let material: TlsMaterial | undefined;
  let inbound: https.Server | undefined;
  let admin: http.Server | undefined;
  const egressServers = new Map<string, http.Server>();
  const pools = new Map<string, Pool>();
  const addresses: SidecarAddresses = { inboundPort: spec.inboundPort, adminPort: spec.adminPort, egress: {} };
  let ready = false;
  const refusals: Refusal[] = [];
  const onRefused = (r: Refusal) => {
    refusals.push(r);
    if (refusals.length > MAX_RECENT_REFUSALS) refusals.shift();
  };
  const appPool = new Pool(spec.appOrigin, {
    connections: 64,
    connectTimeout: t.connectTimeoutMs,
    headersTimeout: t.requestTimeoutMs,
    bodyTimeout: t.requestTimeoutMs,
    keepAliveTimeout: 30_000,
  });

  function poolFor(backend: string, m: TlsMaterial): Pool {
    const e = spec.egress.find((x) => x.backend === backend)!;
    return createUpstreamPool({
      backend,
      origin: e.upstream.origin,
      expectedSpiffeId: e.upstream.expectedSpiffeId,
      material: m,
      counters,
      connectTimeoutMs: t.connectTimeoutMs,
      requestTimeoutMs: t.requestTimeoutMs,
    });
  }

  function configDump(): ConfigDump {
    const cert = material?.certificate;
    return {
      workload: spec.workload,
      spiffeId: spec.spiffeId,
      inbound: {
        address: `${spec.host}:${addresses.inboundPort}`,
        mode,
        minVersion: INBOUND_MIN_VERSION,
        requestCert: true,
        rejectUnauthorized: mode === 'STRICT',
        allowedCallers: [...spec.allowedCallers].sort(),
      },
      egress: spec.egress.map((e) => ({ backend: e.backend, listener: `127.0.0.1:${addresses.egress[e.backend] ?? e.port}`, upstream: e.upstream.origin, expectedSpiffeId: e.upstream.expectedSpiffeId })),
      certificate: {
        identity: cert?.identity,
        dnsNames: cert?.dnsNames ?? [],
        notBefore: cert?.notBefore ?? '',
        notAfter: cert?.notAfter ?? '',
        issuer: cert?.issuer ?? '',
        fingerprint: cert?.fingerprint ?? '',
      },
      app: spec.appOrigin,
    };
  }

  return {
    counters,
    configDump,
    async start() {
      material = await loadTlsMaterial(spec.tls, readText);
      const m = material;
      for (const e of spec.egress) pools.set(e.backend, poolFor(e.backend, m));
      inbound = createInboundServer({
        workload: spec.workload,
        allowedCallers: spec.allowedCallers,
        material: m,
        mode,
        app: () => appPool,
        counters,
        log,
        handshakeTimeoutMs: t.handshakeTimeoutMs,
        onRefused,
      });
      admin = createAdminServer({ counters, configDump, ready: () => ready, refusals: () => [...refusals] });
      addresses.adminPort = await listen(admin, spec.adminPort, '127.0.0.1');
      addresses.inboundPort = await listen(inbound, spec.inboundPort, spec.host);
      for (const e of spec.egress) {
        const server = createEgressServer({ workload: spec.workload, listener: e, pool: () => pools.get(e.backend)!, counters, log });
        egressServers.set(e.backend, server);
        addresses.egress[e.backend] = await listen(server, e.port, '127.0.0.1');
      }
      ready = true;
      log({ event: 'listening', workload: spec.workload, spiffeId: spec.spiffeId, inboundPort: addresses.inboundPort, adminPort: addresses.adminPort, egress: addresses.egress, mode });
      return { ...addresses, egress: { ...addresses.egress } };
    },
    async reload() {
      let next: TlsMaterial;
      try {
        next = await loadTlsMaterial(spec.tls, readText);
      } catch (err) {
        const error = (err as Error).message;
        log({ event: 'reload-failed', workload: spec.workload, error });
        return { type: 'failed', error };
      }
      material = next;
      if (inbound) reloadInbound(inbound, next);
      for (const e of spec.egress) {
        const old = pools.get(e.backend);
        pools.set(e.backend, poolFor(e.backend, next));
        // close() lets requests already on the old pool finish; new ones use the new pool.
        void old?.close().catch(() => undefined);
      }
      log({ event: 'reloaded', workload: spec.workload, fingerprint: next.certificate.fingerprint, notAfter: next.certificate.notAfter });
      return { type: 'reloaded', fingerprint: next.certificate.fingerprint, notAfter: next.certificate.notAfter };
    },
    async stop() {
      ready = false;
      const servers = [inbound, ...egressServers.values()].filter((s): s is http.Server | https.Server => s !== undefined);
      await Promise.all(servers.map((s) => closeServer(s, t.drainTimeoutMs)));
      await Promise.all([...pools.values(), appPool].map((p) => p.close().catch(() => undefined)));
      if (admin) await closeServer(admin, 0);
      log({ event: 'stopped', workload: spec.workload });
    },
  };
}
