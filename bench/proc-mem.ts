/** Resident memory of processes from /proc/<pid>/status (Linux), sampled while a load runs. */
import { readFileSync } from 'node:fs';

/** VmRSS in KiB from the text of /proc/<pid>/status; undefined when the line is missing. */
export function parseVmRssKiB(status: string): number | undefined {
  const m = /^VmRSS:\s+(\d+)\s+kB$/m.exec(status);
  return m ? Number(m[1]) : undefined;
}

/** VmRSS of a process in MiB (one decimal); undefined when /proc is not there or it is gone. */
export function rssMiB(pid: number): number | undefined {
  try {
    const kib = parseVmRssKiB(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return kib === undefined ? undefined : Math.round((kib / 1024) * 10) / 10;
  } catch {
    return undefined;
  }
}

export interface RssSamples {
  /** The largest VmRSS seen per process, MiB. */
  maxMiB: Record<string, number>;
  samples: number;
}

/** Samples VmRSS of each process every `everyMs` until stop(); the peak is what a memory limit must hold. */
export function sampleRss(pids: Record<string, number>, everyMs: number): { stop(): RssSamples } {
  const maxMiB: Record<string, number> = {};
  let samples = 0;
  const take = () => {
    samples++;
    for (const [name, pid] of Object.entries(pids)) {
      const mib = rssMiB(pid);
      if (mib !== undefined) maxMiB[name] = Math.max(maxMiB[name] ?? 0, mib);
    }
  };
  take();
  const timer = setInterval(take, everyMs);
  return {
    stop() {
      clearInterval(timer);
      take();
      return { maxMiB, samples };
    },
  };
}

/** VmRSS of each process now, MiB. */
export function rssNow(pids: Record<string, number>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [name, pid] of Object.entries(pids)) {
    const mib = rssMiB(pid);
    if (mib !== undefined) out[name] = mib;
  }
  return out;
}
