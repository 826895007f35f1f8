/**
 * 5. `meshgw --help` start-up time vs `node -e 0`, and proof that --help loads neither the AWS SDK
 * nor the Kubernetes client: a module hook records every ESM URL resolved, and NODE_DEBUG=module
 * records CommonJS loads.
 */
import { spawn } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { median, ratio, round } from './stats.js';
import { ROOT } from './workloads.js';

export interface Startup {
  runs: number;
  helpMedianMs: number;
  nodeBaselineMedianMs: number;
  ratio: number;
  modulesLoaded: number;
  heavyModulesLoaded: string[];
  helpExitCode: number;
}

/** Module URLs or paths that must not be loaded for --help. */
export const HEAVY = /[\\/]node_modules[\\/](@aws-sdk|@smithy|@kubernetes)[\\/]/;

export function heavyModules(lines: readonly string[]): string[] {
  return [...new Set(lines.filter((l) => HEAVY.test(l)).map((l) => l.match(/(@aws-sdk|@smithy|@kubernetes)[\\/][^\\/]+/)?.[0] ?? l))].sort();
}

function run(args: string[], env: NodeJS.ProcessEnv = process.env): Promise<{ ms: number; code: number; stderr: string }> {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const child = spawn(process.execPath, args, { cwd: ROOT, env, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (d: string) => {
      if (stderr.length < 5_000_000) stderr += d;
    });
    child.once('error', reject);
    child.once('exit', (code) => resolve({ ms: performance.now() - t0, code: code ?? 1, stderr }));
  });
}

export async function measureStartup(dir: string, runs: number): Promise<Startup> {
  const bin = path.join(ROOT, 'bin', 'meshgw');
  // Warm the file cache once each, then alternate so drift hits both alike.
  await run([bin, '--help']);
  await run(['-e', '0']);
  const help: number[] = [];
  const base: number[] = [];
  let helpExitCode = 0;
  for (let i = 0; i < runs; i++) {
    const h = await run([bin, '--help']);
    helpExitCode = h.code;
    help.push(h.ms);
    base.push((await run(['-e', '0'])).ms);
  }

  const logFile = path.join(dir, 'modules.log');
  const hooks = path.join(dir, 'record-hooks.mjs');
  await writeFile(
    hooks,
    `import { appendFileSync } from 'node:fs';\nexport async function resolve(s, c, next) { const r = await next(s, c); appendFileSync(${JSON.stringify(logFile)}, r.url + '\\n'); return r; }\n`,
  );
  const register = path.join(dir, 'record-register.mjs');
  await writeFile(register, `import { register } from 'node:module';\nregister(${JSON.stringify(pathToFileURL(hooks).href)});\n`);
  await writeFile(logFile, '');
  const traced = await run(['--import', pathToFileURL(register).href, bin, '--help'], { ...process.env, NODE_DEBUG: 'module' });
  const esm = (await readFile(logFile, 'utf8')).split('\n').filter(Boolean);
  const cjs = traced.stderr.split('\n').filter((l) => l.startsWith('MODULE'));
  if (esm.length === 0) throw new Error('the module hook recorded nothing: the load check would prove nothing');
  const helpMedianMs = round(median(help), 1);
  const nodeBaselineMedianMs = round(median(base), 1);
  return {
    runs,
    helpMedianMs,
    nodeBaselineMedianMs,
    ratio: ratio(helpMedianMs, nodeBaselineMedianMs),
    modulesLoaded: new Set(esm).size,
    heavyModulesLoaded: heavyModules([...esm, ...cjs]),
    helpExitCode,
  };
}
