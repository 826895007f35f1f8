/**
 * `node dist/src/mesh/sidecar-main.js <spec.json>`: runs one sidecar. SIGHUP re-reads the TLS
 * files; SIGTERM (or SIGINT) drains and exits 0. Logs are JSON lines on stdout.
 */
import { readFile } from 'node:fs/promises';
import { handleSignals } from '../dataplane/listener.js';
import { exitWithSupervisor } from '../dataplane/parent-watch.js';
import { jsonLineLog } from './log.js';
import { createSidecar } from './sidecar.js';
import type { SidecarSpec } from './spec.js';

async function main(argv: string[]): Promise<void> {
  const log = jsonLineLog((line) => process.stdout.write(line));
  const specFile = argv[2];
  if (!specFile) {
    process.stderr.write('usage: sidecar-main.js <spec.json>\n');
    process.exitCode = 2;
    return;
  }
  const spec = JSON.parse(await readFile(specFile, 'utf8')) as SidecarSpec;
  if (spec.kind !== 'sidecar') throw new Error(`${specFile}: expected kind "sidecar", got ${JSON.stringify(spec.kind)}`);
  const sidecar = createSidecar(spec, { log });
  handleSignals({
    // A failed reload keeps the current certificates (and logs why): better old ones than none.
    reload: async () => void (await sidecar.reload()),
    stop: async () => {
      await sidecar.stop();
      return 0;
    },
  });
  await sidecar.start();
}

exitWithSupervisor();
main(process.argv).catch((err: unknown) => {
  // Start-up failures (a port in use, unreadable files) end the process; the supervisor shows the log tail.
  process.stdout.write(JSON.stringify({ time: new Date().toISOString(), event: 'fatal', error: (err as Error).message ?? String(err) }) + '\n');
  process.exit(1);
});
