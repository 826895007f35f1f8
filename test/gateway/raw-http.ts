import net from 'node:net';
import tls from 'node:tls';

export interface RawAnswer {
  status: number;
  headers: Record<string, string>;
  body: string;
}

/** Parses one HTTP/1.1 answer as bytes read off a socket (status line, headers, body up to its content-length). */
export function parseRawAnswer(raw: string): RawAnswer {
  const split = raw.indexOf('\r\n\r\n');
  if (split < 0) throw new Error(`no complete HTTP answer in ${JSON.stringify(raw.slice(0, 200))}`);
  const [statusLine, ...lines] = raw.slice(0, split).split('\r\n');
  const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(statusLine)?.[1]);
  const headers: Record<string, string> = {};
  for (const line of lines) {
    const colon = line.indexOf(':');
    headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
  }
  const length = Number(headers['content-length'] ?? 0);
  return { status, headers, body: raw.slice(split + 4, split + 4 + length) };
}

export type RawTarget = { port: number } | { socketPath: string } | { tls: tls.ConnectionOptions };

/**
 * Writes `payload` as it is on a fresh connection and collects everything until the server
 * closes it (or `timeoutMs` passes): what a client that bypasses every HTTP library sees.
 */
export function rawExchange(target: RawTarget, payload: string, timeoutMs = 5_000): Promise<{ raw: string; closedByServer: boolean }> {
  return new Promise((resolve, reject) => {
    const socket =
      'tls' in target ? tls.connect(target.tls) : 'socketPath' in target ? net.connect(target.socketPath) : net.connect(target.port, '127.0.0.1');
    let raw = '';
    const timer = setTimeout(() => {
      socket.destroy();
      resolve({ raw, closedByServer: false });
    }, timeoutMs);
    socket.once('tls' in target ? 'secureConnect' : 'connect', () => socket.write(payload));
    socket.on('data', (d: Buffer) => (raw += d.toString('latin1')));
    socket.on('error', (err: NodeJS.ErrnoException) => {
      // A reset after the answer arrived still leaves the answer to judge.
      if (raw) return;
      clearTimeout(timer);
      reject(err);
    });
    socket.on('close', () => {
      clearTimeout(timer);
      resolve({ raw, closedByServer: true });
    });
  });
}

/** A request line nothing can parse. */
export const GARBAGE_REQUEST = 'THIS IS NOT HTTP\r\n\r\n';

/** A GET whose one header is `bytes` long: over Node's 16 KiB default and the gateway's 10240. */
export function oversizedHeaderRequest(path: string, bytes = 20 * 1024): string {
  return `GET ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nx-padding: ${'a'.repeat(bytes)}\r\n\r\n`;
}
