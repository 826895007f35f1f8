/** Runs Debian's nginx as the reference reverse proxy, in a temp dir, on a port chosen now. */
import { existsSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { connect, createServer } from 'node:net';
import path from 'node:path';
import { nginxConfig } from './nginx-config.js';
import { startProcess } from './procs.js';

export function nginxBinary(): string | undefined {
  return ['/usr/sbin/nginx', '/usr/local/sbin/nginx', '/usr/bin/nginx'].find((p) => existsSync(p));
}

/** A port free on 127.0.0.1 right now, for servers (nginx, openssl s_server) that cannot be given port 0. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

/** Whether something accepts TCP connections on 127.0.0.1:port. */
export function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const sock = connect(port, '127.0.0.1');
    sock.once('connect', () => {
      sock.destroy();
      resolve(true);
    });
    sock.once('error', () => resolve(false));
  });
}

/** Starts nginx proxying to 127.0.0.1:upstreamPort; a string says why it could not. */
export async function startNginx(dir: string, upstreamPort: number): Promise<{ port: number; stop(): Promise<void> } | string> {
  const bin = nginxBinary();
  if (!bin) return 'nginx is not installed (run `bash bench/setup.sh` as root)';
  const ngDir = path.join(dir, 'nginx');
  await mkdir(ngDir, { recursive: true });
  const port = await freePort();
  const conf = path.join(ngDir, 'nginx.conf');
  await writeFile(conf, nginxConfig({ dir: ngDir, listenPort: port, upstreamPort }));
  const proc = await startProcess({ name: 'nginx', command: bin, args: ['-p', ngDir, '-c', conf, '-e', path.join(ngDir, 'error.log')], isReady: () => undefined, manualReady: true });
  // nginx says nothing when it is up: try its port, at most 200 times 25 ms apart (5 s).
  for (let i = 0; i < 200; i++) {
    if (await accepts(port)) return { port, stop: () => proc.stop() };
    if (proc.child.exitCode !== null) break;
    await new Promise((r) => setTimeout(r, 25));
  }
  await proc.stop();
  return `nginx did not accept connections on ${port} (see ${ngDir}/error.log)`;
}
