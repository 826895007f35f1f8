/**
 * A meshgw sidecar: the STRICT inbound listener in front of one app, one egress listener per
 * backend, and the admin listener. Everything it touches from outside (file reads, the log sink,
 * timeouts) comes in through `deps`; `sidecar-main.ts` wires signals and stdout.
 */
import { readFile } from 'node:fs/promises';
import type https from 'node:https';
import { Pool } from 'undici';
import type { MeshUpstream } from '../dataplane/contracts.js';
import { Listener } from '../dataplane/listener.js';
import { MeshClient } from '../dataplane/mesh-client.js';
import { MESH_TLS_CIPHERS } from '../dataplane/tls-settings.js';
import { loadTlsMaterial, type LoadedTlsMaterial, type ReadText } from '../dataplane/tls-material.js';
import { createAdminServer, type ConfigDump } from './admin.js';
import { createEgressServer, egressCounters } from './egress.js';
import { INBOUND_KEEP_ALIVE_MS, INBOUND_MIN_VERSION, createInboundServer, reloadInbound, type InboundMode, type Refusal } from './inbound.js';
import { resolveLimits } from './limits.js';
import { FaultSwitch } from './fault.js';
import type { SidecarLog } from './log.js';
import type { SidecarSpec } from './spec.js';
import { Counters, seedCounters } from './stats.js';
import { CircuitBreaker } from './stream-guard.js';
import { SidecarTelemetry } from './telemetry.js';

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
  /** The fault switch's and the balancer's coin; Math.random unless a test fixes it. */
  random?: () => number;
}

export interface SidecarAddresses {
  inboundPort: number;
  adminPort: number;
  /** backend → the egress listener's Unix socket. */
  egress: Record<string, string>;
}

export type ReloadResult = { type: 'reloaded'; fingerprint: string; notAfter: string } | { type: 'failed'; error: string };

export interface Sidecar {
  readonly counters: Counters;
  /** Istio's metrics and the Envoy-named counters, served at /stats/prometheus on the admin listener. */
  readonly telemetry: SidecarTelemetry;
  start(): Promise<SidecarAddresses>;
  /** Re-reads the TLS files: new handshakes (in and out) use them; open connections finish undisturbed. */
  reload(): Promise<ReloadResult>;
  /** Stops accepting, lets in-flight requests finish (bounded by drainTimeoutMs), closes pools. */
  stop(): Promise<void>;
  configDump(): ConfigDump;
}

const MAX_RECENT_REFUSALS = 50;
const DEFAULTS = { connectTimeoutMs: 5_000, requestTimeoutMs: 30_000, handshakeTimeoutMs: 10_000, drainTimeoutMs: 10_000 };
/** Idle mesh connections are kept this long (under the inbound side's INBOUND_KEEP_ALIVE_MS). */
const MESH_KEEP_ALIVE_MS = 300_000;
const EGRESS_CONNECTIONS = 32;

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
  const limits = resolveLimits(spec.limits);
  const timeouts = { streamIdleTimeoutMs: limits.streamIdleTimeoutMs, requestTimeoutMs: limits.requestTimeoutMs };
  const appBreaker = new CircuitBreaker(limits.maxConnections, limits.maxPendingRequests);
  const counters = new Counters();
  seedCounters(counters, spec.egress.map((e) => e.backend));
  const upstreams = new Map<string, MeshUpstream>(spec.egress.map((e) => [e.backend, e.upstream]));
  const clientOptions = {
    connections: EGRESS_CONNECTIONS,
    keepAliveTimeoutMs: MESH_KEEP_ALIVE_MS,
    connectTimeoutMs: t.connectTimeoutMs,
    requestTimeoutMs: t.requestTimeoutMs,
    drainTimeoutMs: t.drainTimeoutMs,
    stats: counters,
    ...(deps.random ? { random: deps.random } : {}),
  };
  const fault = new FaultSwitch(deps.random);
  const clientEvents = egressCounters(counters);

  let material: LoadedTlsMaterial | undefined;
  let client: MeshClient | undefined;
  let inbound: Listener | undefined;
  let inboundServer: https.Server | undefined;
  let admin: Listener | undefined;
  const egress: Listener[] = [];
  const addresses: SidecarAddresses = { inboundPort: spec.inboundPort, adminPort: spec.adminPort, egress: {} };
  const telemetry = new SidecarTelemetry(spec, counters, () => addresses.inboundPort);
  let ready = false;
  const refusals: Refusal[] = [];
  const onRefused = (r: Refusal) => {
    refusals.push(r);
    if (refusals.length > MAX_RECENT_REFUSALS) refusals.shift();
  };
  // The hop to the app is plain HTTP on its private Unix socket: no TLS, no port anyone else can reach.
  const appPool = new Pool('http://localhost', {
    socketPath: spec.appSocket,
    connections: limits.maxConnections,
    connectTimeout: t.connectTimeoutMs,
    headersTimeout: t.requestTimeoutMs,
    bodyTimeout: t.requestTimeoutMs,
    keepAliveTimeout: 30_000,
  });

  function configDump(): ConfigDump {
    const cert = material?.certificate;
    return {
      workload: spec.workload,
      spiffeId: spec.spiffeId,
      inbound: {
        address: `${spec.host}:${addresses.inboundPort}`,
        mode,
        minVersion: INBOUND_MIN_VERSION,
        ciphers: MESH_TLS_CIPHERS,
        requestCert: true,
        rejectUnauthorized: mode === 'STRICT',
        allowedCallers: [...spec.allowedCallers].sort(),
      },
      limits,
      egress: spec.egress.map((e) => ({
        backend: e.backend,
        listener: e.socketPath,
        upstream: e.upstream.origin,
        expectedSpiffeId: e.upstream.expectedSpiffeId,
        replicas: e.upstream.replicaOrigins ?? [e.upstream.origin],
        trafficPolicy: e.upstream.trafficPolicy ?? null,
      })),
      certificate: {
        identity: cert?.identity,
        dnsNames: cert?.dnsNames ?? [],
        notBefore: cert?.notBefore ?? '',
        notAfter: cert?.notAfter ?? '',
        issuer: cert?.issuer ?? '',
        fingerprint: cert?.fingerprint ?? '',
      },
      app: spec.appSocket,
    };
  }

  return {
    counters,
    telemetry,
    configDump,
    async start() {
      material = await loadTlsMaterial(spec.tls, readText);
      const m = material;
      const c = new MeshClient(upstreams, m, clientOptions, clientEvents);
      client = c;
      // Ready means warm: the first burst after start-up finds its connections open.
      await c.warm();
      const server = createInboundServer({
        workload: spec.workload,
        spiffeId: spec.spiffeId,
        allowedCallers: spec.allowedCallers,
        material: m,
        mode,
        app: () => appPool,
        counters,
        log,
        handshakeTimeoutMs: t.handshakeTimeoutMs,
        timeouts,
        appBreaker,
        onRefused,
        fault,
        telemetry: telemetry.inbound,
      });
      inboundServer = server;
      inbound = new Listener(server);
      admin = new Listener(createAdminServer({ counters, configDump, ready: () => ready, refusals: () => [...refusals], fault, prometheus: telemetry.prometheus }));
      addresses.adminPort = (await admin.listen({ host: '127.0.0.1', port: spec.adminPort })).port;
      addresses.inboundPort = (await inbound.listen({ host: spec.host, port: spec.inboundPort })).port;
      for (const e of spec.egress) {
        const breaker = new CircuitBreaker(EGRESS_CONNECTIONS, limits.maxPendingRequests);
        const listener = new Listener(createEgressServer({ workload: spec.workload, listener: e, client: () => client!, counters, log, timeouts, breaker, telemetry: telemetry.egress(e.backend) }));
        egress.push(listener);
        await listener.listen({ socketPath: e.socketPath });
        addresses.egress[e.backend] = e.socketPath;
      }
      ready = true;
      log({ event: 'listening', workload: spec.workload, spiffeId: spec.spiffeId, inboundPort: addresses.inboundPort, adminPort: addresses.adminPort, egress: addresses.egress, mode, keepAliveMs: INBOUND_KEEP_ALIVE_MS });
      return { ...addresses, egress: { ...addresses.egress } };
    },
    async reload() {
      let next: LoadedTlsMaterial;
      try {
        next = await loadTlsMaterial(spec.tls, readText);
      } catch (err) {
        const error = (err as Error).message;
        log({ event: 'reload-failed', workload: spec.workload, error });
        return { type: 'failed', error };
      }
      material = next;
      if (inboundServer) reloadInbound(inboundServer, next);
      // Requests already on the old pools finish there; new ones use warm connections with the new certificate.
      await client?.reload(next);
      log({ event: 'reloaded', workload: spec.workload, fingerprint: next.certificate.fingerprint, notAfter: next.certificate.notAfter });
      return { type: 'reloaded', fingerprint: next.certificate.fingerprint, notAfter: next.certificate.notAfter };
    },
    async stop() {
      ready = false;
      await Promise.all([inbound, ...egress].filter((l): l is Listener => l !== undefined).map((l) => l.drain(t.drainTimeoutMs)));
      await Promise.all([client?.close(), appPool.close().catch(() => undefined)]);
      await admin?.drain(0);
      log({ event: 'stopped', workload: spec.workload });
    },
  };
}
