/** CPU time of processes from /proc/<pid>/stat (Linux), to see which process a load costs most. */
import { readFileSync } from 'node:fs';

const TICKS_PER_SECOND = 100;

/** utime + stime of a process in milliseconds; undefined when /proc is not there or it is gone. */
export function cpuMs(pid: number): number | undefined {
  try {
    return parseStatCpuMs(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return undefined;
  }
}

/** Fields 14 and 15 of /proc/<pid>/stat; the command name (field 2) may hold spaces and parentheses. */
export function parseStatCpuMs(stat: string): number | undefined {
  const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // rest[0] is field 3 (state), so field n is rest[n - 3].
  const utime = Number(rest[11]);
  const stime = Number(rest[12]);
  if (!Number.isFinite(utime) || !Number.isFinite(stime)) return undefined;
  return ((utime + stime) * 1000) / TICKS_PER_SECOND;
}

/** CPU milliseconds each named process spent between two snapshots, divided by `requests`. */
export function cpuPerRequest(before: Map<string, number>, after: Map<string, number>, requests: number): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [name, end] of after) {
    const start = before.get(name);
    if (start === undefined || requests <= 0) continue;
    out[name] = Math.round(((end - start) / requests) * 1000) / 1000;
  }
  return out;
}

export function snapshot(pids: Record<string, number>): Map<string, number> {
  const m = new Map<string, number>();
  for (const [name, pid] of Object.entries(pids)) {
    const ms = cpuMs(pid);
    if (ms !== undefined) m.set(name, ms);
  }
  return m;
}
