/**
 * The gateway process: `node dist/src/gateway/main.js <spec.json>`. Wires files, stdout and
 * signals to createGateway; stdout carries only JSON lines (a "listening" event, then access logs).
 * SIGHUP re-reads the TLS files (certificate rotation); SIGTERM drains and exits 0.
 */
import { readFile } from 'node:fs/promises';
import { handleSignals } from '../dataplane/listener.js';
import { exitWithSupervisor } from '../dataplane/parent-watch.js';
import { loadTlsMaterial, type LoadedTlsMaterial } from '../dataplane/tls-material.js';
import { createGateway } from './gateway.js';
import { quotaFileAt } from './quota-file.js';
import { QuotaStore } from './quota-store.js';
import type { GatewaySpec } from './spec.js';

const readText = (file: string) => readFile(file, 'utf8');

async function readTls(spec: GatewaySpec): Promise<LoadedTlsMaterial | undefined> {
  if (!spec.routes.some((r) => r.upstream.origin.startsWith('https:'))) return undefined;
  return loadTlsMaterial(spec.tls, readText);
}

function event(name: string, fields: Record<string, unknown> = {}): void {
  process.stdout.write(JSON.stringify({ event: name, ...fields }) + '\n');
}

async function start(specFile: string): Promise<void> {
  const spec = JSON.parse(await readFile(specFile, 'utf8')) as GatewaySpec;
  if (spec.kind !== 'gateway') throw new Error(`${specFile}: not a gateway spec (kind ${String(spec.kind)})`);
  // A corrupt or foreign quota file stops the start here (a MeshgwError naming the file), before
  // the gateway listens: failing closed and visibly rather than guessing at the counts.
  const quotaStore = spec.quotaFile
    ? await QuotaStore.open(quotaFileAt(spec.quotaFile), {
        onWriteError: (err) => process.stderr.write(`gateway: cannot record quota use in ${spec.quotaFile}: ${(err as Error).message}; requests of keys with a quota are refused until it can\n`),
      })
    : undefined;
  const gateway = createGateway(spec, {
    quotaStore,
    log: process.stdout,
    tlsMaterial: await readTls(spec),
    onError: (err) => process.stderr.write(`gateway: unexpected error: ${(err as Error)?.stack ?? String(err)}\n`),
  });
  handleSignals({
    reload: async () => {
      try {
        const tls = await readTls(spec);
        if (tls) await gateway.reload(tls);
        event('reloaded');
      } catch (err) {
        // A failed reload keeps the current connections: better old certificates than no upstreams.
        event('reload-failed', { message: (err as Error).message });
      }
    },
    stop: async () => {
      try {
        await gateway.close();
        // After the drain: the exact counts are written back, the unused reservations released.
        await quotaStore?.close();
        return 0;
      } catch (err) {
        process.stderr.write(`gateway: close failed: ${(err as Error).message}\n`);
        return 1;
      }
    },
  });
  const port = await gateway.listen();
  event('listening', { port, ...(gateway.adminPort() !== undefined ? { adminPort: gateway.adminPort() } : {}) });
}

const specFile = process.argv[2];
if (!specFile) {
  process.stderr.write('usage: node dist/src/gateway/main.js <spec.json>\n');
  process.exit(2);
}
exitWithSupervisor();
start(specFile).catch((err: Error) => {
  const hint = (err as { hint?: string }).hint;
  process.stderr.write(`gateway: ${err.message}\n${hint ? `  ${hint}\n` : ''}`);
  process.exit(1);
});
