import { X509Certificate } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import type { LoadedConfig } from '../config/load.js';
import { isHealthy, probeHttp, type HttpTarget } from './health.js';
import type { ApiKeyRecord } from '../gateway/spec.js';
import { fidelityTable, type FidelityRow } from './fidelity.js';
import { findRunningStack, inspectLocalStack } from './stack.js';
import type { ProcessTable } from './process-table.js';
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
  /** Whether any process of the stack runs (also true when its supervisor is gone: see `supervisor`). */
  running: boolean;
  healthy: boolean;
  /**
   * running: the supervisor watches the stack; gone: it was killed and the processes it left run
   * unwatched (`meshgw down` ends them); null: nothing runs.
   */
  supervisor: 'running' | 'gone' | null;
  gatewayUrl: string | null;
  startedAt: string | null;
  supervisorPid: number | null;
  apiKeys: ApiKeyRecord[];
  workloads: WorkloadStatus[];
  /** What the local target emulates of API Gateway and Istio (src/local/fidelity.ts). */
  fidelity: FidelityRow[];
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
export async function localStatus(loaded: LoadedConfig, table?: ProcessTable): Promise<LocalStatus> {
  const found = await inspectLocalStack(loaded.stateDir, table);
  const apiKeys = (await readApiKeys(loaded.stateDir)) ?? [];
  if (found.type === 'not-running') {
    // Only a record that nothing alive matches is removed (findRunningStack decides).
    if (found.staleRecord) await findRunningStack(loaded.stateDir, table);
    return { target: 'local', running: false, healthy: false, supervisor: null, gatewayUrl: null, startedAt: null, supervisorPid: null, apiKeys, workloads: [], fidelity: fidelityTable() };
  }
  const { run } = found;
  const alive = new Set(found.processes.map((p) => p.pid));
  const workloads = await Promise.all(
    run.workloads.map(async (w): Promise<WorkloadStatus> => {
      const processes = await Promise.all(
        w.processes.map(async (p) => {
          // A recorded pid that is not the stack's any more is shown as gone, never probed as if it were.
          if (found.type === 'orphaned' && p.pid && !alive.has(p.pid)) return { ...p, pid: null, live: 'stopped' as const };
          const live: WorkloadHealth = p.pid ? (isHealthy(await probeHttp(healthTarget(p, w)), p.role !== 'gateway') ? 'healthy' : 'unhealthy') : p.health;
          return { ...p, live };
        }),
      );
      return {
        name: w.name,
        kind: w.kind,
        ...(w.service ? { service: w.service, replica: w.replica } : {}),
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
  const supervised = found.type === 'running';
  const healthy = supervised && run.ready && workloads.every((w) => w.processes.every((p) => p.live === 'healthy'));
  return { target: 'local', running: true, healthy, supervisor: supervised ? 'running' : 'gone', gatewayUrl: run.gatewayUrl, startedAt: run.startedAt, supervisorPid: run.supervisorPid, apiKeys, workloads, fidelity: fidelityTable() };
}
