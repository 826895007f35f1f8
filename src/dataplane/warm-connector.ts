/**
 * A connector for undici that keeps connections to one upstream open ahead of need. At start-up
 * (and after a reload) it opens `floor` connections; undici's pool takes them as its concurrency
 * grows and keeps them alive afterwards, so a burst rides connections whose handshakes were paid
 * before it arrived. A handshake costs about 2 ms of CPU on the event loop: paid during a burst,
 * it delays the parsing of the requests behind it (issue 13). When a connection closes and fewer
 * than `floor` remain, a replacement is opened a moment later, off the request path.
 */
import type { Socket } from 'node:net';
import { buildConnector } from 'undici';

export interface ConnectionEvents {
  /** A connection was established: for TLS, a full mutual handshake whose peer identity was checked. */
  connected?(): void;
  /** A connection attempt failed (refused, TLS verification, identity mismatch...). */
  failed?(err: Error): void;
}

export interface WarmConnectorOptions {
  origin: string;
  /** undici connect options (TLS material, checkServerIdentity, timeout, socketPath). */
  connect: buildConnector.BuildOptions;
  /** Connections kept open; 0 opens them only on demand. */
  floor: number;
  events?: ConnectionEvents;
  /** Delay before replacing a closed connection, and the first retry delay after a failed one (doubled up to 30 s). */
  refillDelayMs?: number;
}

const MAX_RETRY_MS = 30_000;

function ignoreError(): void {}

export class WarmConnector {
  readonly #open: buildConnector.connector;
  readonly #target: buildConnector.Options;
  readonly #floor: number;
  readonly #events: ConnectionEvents;
  readonly #refillDelayMs: number;
  readonly #spares: Socket[] = [];
  #live = 0;
  #opening = 0;
  #failures = 0;
  #closed = false;
  #timer: NodeJS.Timeout | undefined;

  constructor(opts: WarmConnectorOptions) {
    this.#open = buildConnector(opts.connect);
    const url = new URL(opts.origin);
    this.#target = { hostname: url.hostname, host: url.host, protocol: url.protocol, port: url.port };
    this.#floor = opts.floor;
    this.#events = opts.events ?? {};
    this.#refillDelayMs = opts.refillDelayMs ?? 100;
  }

  /** Connections open now (in use, idle in the pool, or spare). */
  get live(): number {
    return this.#live;
  }

  /** The connector undici calls for every new connection: a spare if there is one, else a new one. */
  readonly connect: buildConnector.connector = (_options, callback) => {
    const spare = this.#takeSpare();
    if (spare) {
      // Asynchronously, as a real connect completes: undici's client does not expect its
      // connector to call back before it returns.
      process.nextTick(callback, null, spare);
      return;
    }
    this.#connectOne((err, socket) => (err ? callback(err, null) : callback(null, socket!)));
  };

  /** Opens spares until `floor` connections are open; resolves when every attempt has settled. */
  warm(): Promise<void> {
    const missing = this.#floor - this.#live - this.#opening;
    const attempts: Promise<void>[] = [];
    for (let i = 0; i < missing; i++) {
      attempts.push(
        new Promise<void>((resolve) =>
          this.#connectOne((err, socket) => {
            if (!err && socket) {
              if (this.#closed) socket.destroy();
              else this.#spares.push(socket);
            }
            resolve();
          }),
        ),
      );
    }
    return Promise.all(attempts).then(() => undefined);
  }

  /** Drops the spares and stops replacing connections; those in use finish under the pool's control. */
  close(): void {
    this.#closed = true;
    clearTimeout(this.#timer);
    for (const s of this.#spares.splice(0)) s.destroy();
  }

  #takeSpare(): Socket | undefined {
    for (let s = this.#spares.pop(); s; s = this.#spares.pop()) {
      // A spare the server closed meanwhile is useless: a request written to it would fail.
      if (!s.destroyed && !s.readableEnded && s.writable) return s;
      s.destroy();
    }
    return undefined;
  }

  #connectOne(done: (err: Error | null, socket?: Socket) => void): void {
    this.#opening++;
    this.#open(this.#target, (err, socket) => {
      this.#opening--;
      if (err || !socket) {
        this.#failures++;
        this.#events.failed?.(err ?? new Error('no socket'));
        this.#scheduleRefill();
        done(err ?? new Error('no socket'));
        return;
      }
      this.#failures = 0;
      this.#live++;
      socket.on('error', ignoreError);
      socket.once('close', this.#onClose);
      this.#events.connected?.();
      done(null, socket);
    });
  }

  readonly #onClose = (): void => {
    this.#live--;
    for (let i = this.#spares.length - 1; i >= 0; i--) if (this.#spares[i].destroyed) this.#spares.splice(i, 1);
    this.#scheduleRefill();
  };

  #scheduleRefill(): void {
    if (this.#closed || this.#timer || this.#live + this.#opening >= this.#floor) return;
    const delay = this.#failures === 0 ? this.#refillDelayMs : Math.min(this.#refillDelayMs * 2 ** this.#failures, MAX_RETRY_MS);
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      void this.warm();
    }, delay);
    this.#timer.unref();
  }
}
