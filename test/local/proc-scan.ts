// Finds a local stack's processes straight from Linux /proc, independently of the code under test:
// every process whose command line or environment names the stack's state folder (the supervisor,
// the sidecars and the gateway by their arguments, the apps by their socket paths), plus every
// member of those processes' process groups.
import { readdir, readFile } from 'node:fs/promises';

export interface ScannedProcess {
  pid: number;
  pgid: number;
  command: string;
}

async function readProcess(pid: number, stateDir: string): Promise<(ScannedProcess & { namesStateDir: boolean }) | undefined> {
  try {
    const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    if (fields[0] === 'Z') return undefined; // a zombie has exited: only its parent's wait is missing
    const command = (await readFile(`/proc/${pid}/cmdline`, 'utf8')).split('\0').join(' ').trim();
    const environ = await readFile(`/proc/${pid}/environ`, 'utf8').catch(() => '');
    return { pid, pgid: Number(fields[2]), command, namesStateDir: command.includes(stateDir) || environ.includes(stateDir) };
  } catch {
    return undefined;
  }
}

/** The live (non-zombie) processes of the stack whose state folder is stateDir, plus any in extraGroups. */
export async function scanStackProcesses(stateDir: string, extraGroups: number[] = []): Promise<ScannedProcess[]> {
  const pids = (await readdir('/proc')).filter((n) => /^\d+$/.test(n)).map(Number).filter((p) => p !== process.pid);
  const all = (await Promise.all(pids.map((p) => readProcess(p, stateDir)))).filter((p) => p !== undefined);
  const groups = new Set([...extraGroups, ...all.filter((p) => p.namesStateDir).map((p) => p.pgid)]);
  // The test runner's own group never counts: a `meshgw up` it spawned shares it, and exits by itself.
  groups.delete(Number((await readFile('/proc/self/stat', 'utf8')).split(') ')[1].split(' ')[2]));
  return all.filter((p) => p.namesStateDir || groups.has(p.pgid)).map(({ pid, pgid, command }) => ({ pid, pgid, command }));
}

/** Polls until pred holds for the scan, or throws with the last scan after timeoutMs. */
export async function waitForScan(stateDir: string, pred: (procs: ScannedProcess[]) => boolean, timeoutMs: number, extraGroups: number[] = []): Promise<ScannedProcess[]> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const procs = await scanStackProcesses(stateDir, extraGroups);
    if (pred(procs)) return procs;
    if (Date.now() > deadline) throw new Error(`after ${timeoutMs} ms the stack's processes are: ${JSON.stringify(procs.map((p) => `${p.pid} ${p.command}`))}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** SIGKILLs every process of the stack still running: the after-hook's safety net. */
export async function killStack(stateDir: string, extraGroups: number[] = []): Promise<void> {
  for (const p of await scanStackProcesses(stateDir, extraGroups)) {
    try {
      process.kill(p.pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
}
