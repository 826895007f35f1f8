/**
 * The one listener lifecycle of every meshgw process (gateway, sidecars, services): listen on a
 * TCP port or on a Unix domain socket, reload on SIGHUP, drain on SIGTERM as Kubernetes expects
 * (stop accepting, let in-flight requests finish with Connection: close, cut what is left after a
 * grace period). Imports only node: built-ins, so the services' images can carry it alone.
 */
import { chmod, lstat, unlink } from 'node:fs/promises';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { Server as HttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';

/** Where a listener binds: a TCP port on a host, or a Unix domain socket (its folder decides who may connect). */
export type ListenAddress = { host: string; port: number } | { socketPath: string };

export type DrainResult = { type: 'drained' } | { type: 'timed-out'; cutConnections: number };

/** `host:port` or the socket path, for logs and config dumps. */
export function describeAddress(address: ListenAddress): string {
  return 'socketPath' in address ? address.socketPath : `${address.host}:${address.port}`;
}

/** Removes a socket file left by a process that died without closing it; anything else at that path is left alone. */
async function removeStaleSocket(socketPath: string): Promise<void> {
  try {
    if ((await lstat(socketPath)).isSocket()) await unlink(socketPath);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
}

/** Tracks a server's in-flight responses so that a drain can mark them Connection: close. */
export class Listener {
  readonly #active = new Set<ServerResponse>();
  #draining = false;

  constructor(readonly server: Server | HttpsServer) {
    const active = this.#active;
    // One listener function per server, not per request: `this` is the response that closed.
    function untrack(this: ServerResponse): void {
      active.delete(this);
    }
    server.on('request', (_req: IncomingMessage, res: ServerResponse) => {
      if (this.#draining && !res.headersSent) res.setHeader('connection', 'close');
      active.add(res);
      res.once('close', untrack);
    });
  }

  get inFlight(): number {
    return this.#active.size;
  }

  /** Binds the address (a Unix socket gets mode 0600); resolves with what was bound (the real port for port 0). */
  listen(address: { host: string; port: number }): Promise<{ host: string; port: number }>;
  listen(address: { socketPath: string }): Promise<{ socketPath: string }>;
  listen(address: ListenAddress): Promise<ListenAddress>;
  async listen(address: ListenAddress): Promise<ListenAddress> {
    if ('socketPath' in address) await removeStaleSocket(address.socketPath);
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      const done = () => {
        this.server.off('error', reject);
        resolve();
      };
      if ('socketPath' in address) this.server.listen(address.socketPath, done);
      else this.server.listen(address.port, address.host, done);
    });
    if ('socketPath' in address) {
      await chmod(address.socketPath, 0o600);
      return { socketPath: address.socketPath };
    }
    return { host: address.host, port: (this.server.address() as AddressInfo).port };
  }

  /** Stops accepting, lets in-flight requests finish (their responses say Connection: close), cuts the rest after graceMs. */
  drain(graceMs: number): Promise<DrainResult> {
    if (!this.server.listening) return Promise.resolve({ type: 'drained' });
    this.#draining = true;
    for (const res of this.#active) if (!res.headersSent) res.setHeader('connection', 'close');
    return new Promise((resolve) => {
      let result: DrainResult = { type: 'drained' };
      const timer = setTimeout(() => {
        result = { type: 'timed-out', cutConnections: this.#active.size };
        this.server.closeAllConnections();
      }, graceMs);
      this.server.close(() => {
        clearTimeout(timer);
        resolve(result);
      });
      this.server.closeIdleConnections();
    });
  }
}

export interface SignalHandlers {
  /** SIGHUP: re-read credentials. Reloads never overlap: one arriving during another runs after it. */
  reload?: () => Promise<void>;
  /** The first SIGTERM or SIGINT: drain and release; its result is the exit code. Later signals are ignored. */
  stop: (signal: NodeJS.Signals) => Promise<number>;
  /** Where signals come from; the process by default. */
  emitter?: NodeJS.EventEmitter;
  /** Called with the exit code once stop() is done; process.exit by default. */
  exit?: (code: number) => void;
}

/** Wires SIGHUP to reload and SIGTERM / SIGINT to a single stop, then exit. */
export function handleSignals(h: SignalHandlers): void {
  const emitter = h.emitter ?? process;
  const exit = h.exit ?? ((code: number) => process.exit(code));
  let stopping = false;
  let reloads = Promise.resolve();
  const onStop = (signal: NodeJS.Signals) => {
    if (stopping) return;
    stopping = true;
    h.stop(signal).then(exit, () => exit(1));
  };
  emitter.on('SIGTERM', onStop);
  emitter.on('SIGINT', onStop);
  const reload = h.reload;
  if (reload) emitter.on('SIGHUP', () => void (reloads = reloads.then(reload).catch(() => undefined)));
}
