import { execFile } from 'node:child_process';
import { readdir, readFile } from 'node:fs/promises';

/** One live process as the OS lists it. */
export interface ProcessInfo {
  pid: number;
  /** Process group id. */
  pgid: number;
  /**
   * When the process started, as the OS reports it (Linux: clock ticks since boot; elsewhere
   * ps's lstart). Only compared for equality: a recycled pid has another start time.
   */
  startIdentity: string;
  /** The command line, arguments joined by spaces. */
  command: string;
}

/** The OS process list, behind an interface so tests and other systems can supply their own. */
export interface ProcessTable {
  /** One process, or undefined when no process has this pid. */
  get(pid: number): Promise<ProcessInfo | undefined>;
  /** Every process in a process group. */
  group(pgid: number): Promise<ProcessInfo[]>;
}

// /proc/<pid>/stat: "pid (comm) state ppid pgrp session ... starttime(22nd field) ...". comm may
// hold spaces and parentheses, so the fields are counted after its last ')'.
function parseProcStat(pid: number, stat: string, cmdline: string): ProcessInfo | undefined {
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // fields[0] is the 3rd field (state): pgrp is the 5th, starttime the 22nd.
  const pgid = Number(fields[2]);
  const start = fields[19];
  // A zombie (Z) or dying (X) process has exited: only its parent's wait() is missing.
  if (!Number.isInteger(pgid) || !start || fields[0] === 'Z' || fields[0] === 'X') return undefined;
  return { pid, pgid, startIdentity: `linux:${start}`, command: cmdline.split('\0').filter(Boolean).join(' ') };
}

async function readProc(pid: number): Promise<ProcessInfo | undefined> {
  try {
    const [stat, cmdline] = await Promise.all([readFile(`/proc/${pid}/stat`, 'utf8'), readFile(`/proc/${pid}/cmdline`, 'utf8')]);
    return parseProcStat(pid, stat, cmdline);
  } catch {
    return undefined; // gone between the listing and the read, or not ours to read
  }
}

/** Linux: reads /proc directly (no child process, no dependency on procps being installed). */
export const procProcessTable: ProcessTable = {
  get: (pid) => readProc(pid),
  async group(pgid) {
    const pids = (await readdir('/proc')).filter((n) => /^\d+$/.test(n)).map(Number);
    const all = await Promise.all(pids.map(readProc));
    return all.filter((p): p is ProcessInfo => p !== undefined && p.pgid === pgid);
  },
};

// ps -o lstart prints a fixed-format date such as "Mon Jan  6 09:01:02 2025"; stat starts with Z for a zombie.
const PS_LINE = /^\s*(\d+)\s+(\d+)\s+(\S+)\s+(\w{3} \w{3} [ \d]\d \d\d:\d\d:\d\d \d{4})\s+(.*)$/;

function runPs(args: string[]): Promise<ProcessInfo[]> {
  return new Promise((resolve) => {
    execFile('ps', args, { env: { ...process.env, LC_ALL: 'C' }, maxBuffer: 16 * 1024 * 1024 }, (_err, stdout) => {
      // ps exits 1 when -p names no live process: that is an empty answer, not a failure.
      const rows = String(stdout ?? '').split('\n').map((l) => PS_LINE.exec(l)).filter((m): m is RegExpExecArray => m !== null && !m[3].startsWith('Z'));
      resolve(rows.map((m) => ({ pid: Number(m[1]), pgid: Number(m[2]), startIdentity: `ps:${m[4]}`, command: m[5] })));
    });
  });
}

/** macOS and other systems without /proc: POSIX ps. */
export const psProcessTable: ProcessTable = {
  async get(pid) {
    return (await runPs(['-o', 'pid=,pgid=,stat=,lstart=,command=', '-p', String(pid)])).find((p) => p.pid === pid);
  },
  async group(pgid) {
    return (await runPs(['-A', '-o', 'pid=,pgid=,stat=,lstart=,command='])).filter((p) => p.pgid === pgid);
  },
};

/** The process table of this system. */
export function systemProcessTable(platform: NodeJS.Platform = process.platform): ProcessTable {
  return platform === 'linux' ? procProcessTable : psProcessTable;
}
