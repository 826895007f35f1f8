import { X509Certificate } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import type { LoadedConfig } from '../config/load.js';
import { isHealthy, probeHttp, type HttpTarget } from './health.js';
import type { ApiKeyRecord } from '../gateway/spec.js';
import { findRunningStack } from './stack.js';
import { readApiKeys, type ProcessState, type WorkloadHealth, type WorkloadState } from './state.js';

export interface CertificateStatus {
  identity: string | null;
  dnsNames: string[];
  notAfter: string;
  expiresInHours: number;
}

export interface WorkloadStatus extends Omit<WorkloadState, 'tls' | 'processes'> {
  certificate: CertificateStatus | { error: string };
  /** Each process with `live`: its health probed now, not as last recorded. */
  processes: (ProcessState & { live: WorkloadHealth })[];
}

/** `meshgw status --output json` on the local target (a stable shape: fields are only added). */
export interface LocalStatus {
  target: 'local';
  running: boolean;
  healthy: boolean;
  gatewayUrl: string | null;
  startedAt: string | null;
  supervisorPid: number | null;
  apiKeys: ApiKeyRecord[];
  workloads: WorkloadStatus[];
}

export async function describeCertificate(certFile: string, now = new Date()): Promise<CertificateStatus | { error: string }> {
  try {
    const cert = new X509Certificate(await readFile(certFile));
    const sans = (cert.subjectAltName ?? '').split(',').map((s) => s.trim());
    const notAfter = new Date(cert.validTo);
    return {
      identity: sans.find((s) => s.startsWith('URI:'))?.slice(4) ?? null,
      dnsNames: sans.filter((s) => s.startsWith('DNS:')).map((s) => s.slice(4)),
      notAfter: notAfter.toISOString(),
      expiresInHours: Math.round(((notAfter.getTime() - now.getTime()) / 3_600_000) * 10) / 10,
    };
  } catch (err) {
    return { error: `cannot read ${certFile}: ${(err as Error).message}` };
  }
}

function healthTarget(p: ProcessState, w: { url: string; adminUrl?: string; appSocket?: string }): HttpTarget {
  if (p.role === 'app') return w.appSocket ? { url: 'http://localhost/healthz', socketPath: w.appSocket } : { url: `${w.url}/healthz` };
  if (p.role === 'sidecar') return { url: `${w.adminUrl}/ready` };
  return { url: `${w.url}/` };
}

/** What is running now, probed live rather than trusted from the state file. */
export async function localStatus(loaded: LoadedConfig): Promise<LocalStatus> {
  const run = await findRunningStack(loaded.stateDir);
  const apiKeys = (await readApiKeys(loaded.stateDir)) ?? [];
  if (!run) {
    return { target: 'local', running: false, healthy: false, gatewayUrl: null, startedAt: null, supervisorPid: null, apiKeys, workloads: [] };
  }
  const workloads = await Promise.all(
    run.workloads.map(async (w): Promise<WorkloadStatus> => {
      const processes = await Promise.all(
        w.processes.map(async (p) => {
          const live: WorkloadHealth = p.pid ? (isHealthy(await probeHttp(healthTarget(p, w)), p.role !== 'gateway') ? 'healthy' : 'unhealthy') : p.health;
          return { ...p, live };
        }),
      );
      return {
        name: w.name,
        kind: w.kind,
        spiffeId: w.spiffeId,
        url: w.url,
        ...(w.appSocket ? { appSocket: w.appSocket } : {}),
        ...(w.inboundUrl ? { inboundUrl: w.inboundUrl } : {}),
        ...(w.adminUrl ? { adminUrl: w.adminUrl } : {}),
        ...(w.egress ? { egress: w.egress } : {}),
        certificate: await describeCertificate(w.tls.certFile),
        processes,
      };
    }),
  );
  const healthy = run.ready && workloads.every((w) => w.processes.every((p) => p.live === 'healthy'));
  return { target: 'local', running: true, healthy, gatewayUrl: run.gatewayUrl, startedAt: run.startedAt, supervisorPid: run.supervisorPid, apiKeys, workloads };
}
