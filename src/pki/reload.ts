/**
 * After a rotation, running processes must re-read their TLS files. The local supervisor forwards
 * SIGHUP to its sidecars and gateway, so one signal to it is enough; if it is gone but children
 * are still listed, they are signalled directly.
 */
import type { LocalRunState } from '../local/state.js';

export interface ReloadOutcome {
  /** 'supervisor' when the supervisor forwarded the signal, 'direct' when processes were signalled one by one. */
  via: 'supervisor' | 'direct' | 'none';
  signalled: number[];
}

export interface ReloadDeps {
  isAlive(pid: number): boolean;
  kill(pid: number, signal: NodeJS.Signals): void;
}

export function signalReload(run: LocalRunState | undefined, deps: ReloadDeps): ReloadOutcome {
  if (!run) return { via: 'none', signalled: [] };
  if (run.supervisorPid && deps.isAlive(run.supervisorPid)) {
    deps.kill(run.supervisorPid, 'SIGHUP');
    return { via: 'supervisor', signalled: [run.supervisorPid] };
  }
  const pids = run.workloads
    .flatMap((w) => w.processes)
    .filter((p) => (p.role === 'sidecar' || p.role === 'gateway') && p.pid !== null && deps.isAlive(p.pid))
    .map((p) => p.pid as number);
  for (const pid of pids) deps.kill(pid, 'SIGHUP');
  return { via: pids.length > 0 ? 'direct' : 'none', signalled: pids };
}
