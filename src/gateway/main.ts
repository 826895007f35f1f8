/**
 * The gateway process: `node dist/src/gateway/main.js <spec.json>`. Wires files, stdout and
 * signals to createGateway; stdout carries only JSON lines (a "listening" event, then access logs).
 * SIGHUP re-reads the TLS files (certificate rotation); SIGTERM drains and exits 0.
 */
import { readFile } from 'node:fs/promises';
import type { GatewaySpec } from '../local/specs.js';
import { createGateway } from './gateway.js';
import type { TlsMaterial } from './upstreams.js';

async function readTls(spec: GatewaySpec): Promise<TlsMaterial | undefined> {
  if (!spec.routes.some((r) => r.upstream.origin.startsWith('https:'))) return undefined;
  const [ca, cert, key] = await Promise.all([spec.tls.caFile, spec.tls.certFile, spec.tls.keyFile].map((f) => readFile(f, 'utf8')));
  return { ca, cert, key };
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
  const port = await gateway.listen();
  event('listening', { port });

  let stopping = false;
  process.on('SIGTERM', () => {
    if (stopping) return;
    stopping = true;
    gateway.close().then(
      () => process.exit(0),
      (err: Error) => {
        process.stderr.write(`gateway: close failed: ${err.message}\n`);
        process.exit(1);
      },
    );
  });
  process.on('SIGHUP', () => {
    readTls(spec)
      .then((tls) => (tls ? gateway.reload(tls) : undefined))
      .then(
        () => event('reloaded'),
        // A failed reload keeps the current pools: better old certificates than no upstreams.
        (err: Error) => event('reload-failed', { message: err.message }),
      );
  });
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
