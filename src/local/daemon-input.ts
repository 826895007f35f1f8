import { chmod, mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { LocalPlan } from './plan.js';

/** What `up` hands the supervisor daemon (one file, mode 0600, deleted by the daemon once read). */
export interface DaemonInput {
  configFile: string;
  stateDir: string;
  plan: LocalPlan;
}

/** Writes each process's spec file, mode 0600: they name key files and carry API key values. */
export async function writeSpecFiles(plan: LocalPlan): Promise<void> {
  for (const p of plan.processes) {
    if (!p.spec || !p.specFile) continue;
    await mkdir(path.dirname(p.specFile), { recursive: true, mode: 0o700 });
    await writeFile(p.specFile, JSON.stringify(p.spec, null, 2) + '\n', { mode: 0o600 });
    await chmod(p.specFile, 0o600);
  }
}
