/** The replicas of a service in the local run record, and waiting for the stack to be whole again. */
import type { LocalRunState, WorkloadState } from '../../local/state.js';

export interface Replica {
  /** The workload's name: "users", "users-2"… */
  name: string;
  replica: number;
  inboundUrl: string;
  adminUrl: string;
  /** The app's pid as last recorded (null while it restarts). */
  appPid: number | null;
}

function replicaOf(w: WorkloadState, service: string): Replica | undefined {
  if (w.kind !== 'service' || !w.inboundUrl || !w.adminUrl) return undefined;
  if (!(w.name === service || w.service === service)) return undefined;
  return { name: w.name, replica: w.replica ?? 1, inboundUrl: w.inboundUrl, adminUrl: w.adminUrl, appPid: w.processes.find((p) => p.role === 'app')?.pid ?? null };
}

/** Every replica of a service, replica 1 first. */
export function replicasOf(run: LocalRunState, service: string): Replica[] {
  return run.workloads.flatMap((w) => replicaOf(w, service) ?? []).sort((a, b) => a.replica - b.replica);
}

/** Every service workload's admin URL: each sidecar counts the calls it makes as a client. */
export function adminUrls(run: LocalRunState): string[] {
  return run.workloads.flatMap((w) => (w.kind === 'service' && w.adminUrl ? [w.adminUrl] : []));
}

/** Processes not (yet) healthy, by name. */
export function unhealthy(run: LocalRunState): string[] {
  return run.workloads.flatMap((w) => w.processes.filter((p) => p.health !== 'healthy' || !p.pid).map((p) => p.name));
}

/**
 * Polls the run record (the supervisor rewrites it on every change) until every process is
 * healthy again, or the deadline passes. Returns how long it took, or the ones still down.
 */
export async function waitWhole(readRun: () => Promise<LocalRunState>, deadlineMs: number, pollMs = 100): Promise<{ ok: true; ms: number } | { ok: false; down: string[] }> {
  const started = Date.now();
  for (;;) {
    const down = unhealthy(await readRun());
    if (down.length === 0) return { ok: true, ms: Date.now() - started };
    if (Date.now() - started >= deadlineMs) return { ok: false, down };
    await new Promise((r) => setTimeout(r, pollMs));
  }
}
