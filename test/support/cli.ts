// The real meshgw command line as a child process, for tests that check what a user sees:
// exit code, stdout and stderr (a non-zero exit is a result here, not an exception).
import { execFile } from 'node:child_process';
import path from 'node:path';

export interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
}

const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '../../..');
export const MESHGW_BIN = path.join(root, 'bin/meshgw');

export function runMeshgw(args: string[], opts: { cwd?: string; env?: NodeJS.ProcessEnv; timeoutMs?: number } = {}): Promise<CliRun> {
  return new Promise((resolve) => {
    execFile(process.execPath, [MESHGW_BIN, ...args], { cwd: opts.cwd, timeout: opts.timeoutMs ?? 0, env: { ...process.env, ...opts.env }, maxBuffer: 16 * 1024 * 1024 }, (err, stdout, stderr) => {
      resolve({ code: err ? Number((err as { code?: number }).code ?? 1) : 0, stdout, stderr });
    });
  });
}
