/**
 * The gateway process: `node dist/src/gateway/main.js <spec.json>`. Wires files, stdout and
 * signals to createGateway; stdout carries only JSON lines (a "listening" event, then access logs).
 * SIGHUP re-reads the TLS files (certificate rotation); SIGTERM drains and exits 0.
 */
import { readFile } from 'node:fs/promises';
import { handleSignals } from '../dataplane/listener.js';
import { loadTlsMaterial, type LoadedTlsMaterial } from '../dataplane/tls-material.js';
import { createGateway } from './gateway.js';
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
  const gateway = createGateway(spec, {
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
        return 0;
      } catch (err) {
        process.stderr.write(`gateway: close failed: ${(err as Error).message}\n`);
        return 1;
      }
    },
  });
  const port = await gateway.listen();
  event('listening', { port });
}

const specFile = process.argv[2];
if (!specFile) {
  process.stderr.write('usage: node dist/src/gateway/main.js <spec.json>\n');
  process.exit(2);
}
start(specFile).catch((err: Error) => {
  process.stderr.write(`gateway: ${err.message}\n`);
  process.exit(1);
});
