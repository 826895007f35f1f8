/**
 * Records one HTTP exchange into Istio's four request metrics. The hot path is a two-level map
 * lookup and a few additions (istio-registry.ts): an edge's label objects are built once, the
 * first time a (response code, flags) pair is seen, never per request.
 */
import type { Socket } from 'node:net';
import type { IstioRequestLabels } from './contract.js';
import type { EdgeLabels } from './istio-labels.js';
import type { IstioMetrics, RequestSeries } from './istio-registry.js';

/** Bytes a socket had carried when its previous exchange was recorded. */
interface WireMark {
  read: number;
  written: number;
}
const marks = new WeakMap<Socket, WireMark>();

/**
 * The HTTP/1.1 bytes of the exchange just finished on `socket`, headers and body, each way: what
 * the socket carried since the previous exchange recorded on it (Istio records the downstream
 * bytes meter's wireBytesReceived/Sent). Exact for keep-alive connections that send one request
 * at a time, as the mesh clients and undici pools do; a pipelining client's bytes are split at
 * recording times, the totals still right.
 */
function exchangeBytes(socket: Socket, out: WireMark): void {
  let mark = marks.get(socket);
  if (!mark) marks.set(socket, (mark = { read: 0, written: 0 }));
  const read = socket.bytesRead;
  const written = socket.bytesWritten;
  out.read = read - mark.read;
  out.written = written - mark.written;
  mark.read = read;
  mark.written = written;
}

/** One edge's series (e.g. reporter=source, gateway → orders, upstream connected). */
export class EdgeRecorder {
  readonly #byCode = new Map<number, Map<string, RequestSeries>>();
  readonly #bytes: WireMark = { read: 0, written: 0 };

  constructor(
    private readonly metrics: IstioMetrics,
    readonly labels: EdgeLabels,
  ) {}

  /** Counts a finished exchange; `socket` is the downstream connection it arrived on. */
  record(code: number, flags: string, durationMs: number, socket: Socket | null | undefined): void {
    const s = this.#series(code, flags);
    s.requests++;
    s.duration.observe(durationMs);
    if (socket) exchangeBytes(socket, this.#bytes);
    else this.#bytes.read = this.#bytes.written = 0;
    s.requestBytes.observe(this.#bytes.read);
    s.responseBytes.observe(this.#bytes.written);
  }

  #series(code: number, flags: string): RequestSeries {
    let byFlags = this.#byCode.get(code);
    if (!byFlags) this.#byCode.set(code, (byFlags = new Map()));
    let s = byFlags.get(flags);
    if (!s) {
      const labels: IstioRequestLabels = { ...this.labels, response_code: String(code), response_flags: flags };
      byFlags.set(flags, (s = this.metrics.requestSeries(labels)));
    }
    return s;
  }
}

/** Edge recorders by a key (a peer's SPIFFE ID, a backend's name), each built on first use. */
export class EdgeRecorders<K> {
  readonly #edges = new Map<K, EdgeRecorder>();

  constructor(
    private readonly metrics: IstioMetrics,
    private readonly labelsFor: (key: K) => EdgeLabels,
  ) {}

  get(key: K): EdgeRecorder {
    let e = this.#edges.get(key);
    if (!e) this.#edges.set(key, (e = new EdgeRecorder(this.metrics, this.labelsFor(key))));
    return e;
  }
}
