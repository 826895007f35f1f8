import type { IncomingMessage, Server, ServerResponse } from 'node:http';

export type DrainResult =
  | { type: 'drained'; signal: NodeJS.Signals }
  | { type: 'timed-out'; signal: NodeJS.Signals; cutConnections: number };

export interface DrainOptions {
  signals?: NodeJS.Signals[];
  /** In-flight requests get this long to finish before their connections are cut. */
  graceMs: number;
  /** Told when draining starts, e.g. to write a log line. */
  onDraining?: (signal: NodeJS.Signals, inFlight: number) => void;
  /** Where signals come from; the process by default. */
  emitter?: NodeJS.EventEmitter;
}

/**
 * Graceful shutdown as Kubernetes expects it: on the first signal stop accepting, let in-flight
 * requests finish (their responses and any later one on a kept-alive socket carry Connection: close,
 * so clients do not reuse a socket that is about to go), and resolve once the server has closed.
 * Call before the first request so in-flight responses are tracked.
 */
export function drainOnSignal(server: Server, options: DrainOptions): Promise<DrainResult> {
  const signals = options.signals ?? ['SIGTERM', 'SIGINT'];
  const emitter = options.emitter ?? process;
  const active = new Set<ServerResponse>();
  let draining = false;
  server.on('request', (_req: IncomingMessage, res: ServerResponse) => {
    if (draining) res.setHeader('connection', 'close');
    active.add(res);
    res.on('close', () => active.delete(res));
  });
  return new Promise((resolve) => {
    const onSignal = (signal: NodeJS.Signals) => {
      if (draining) return;
      draining = true;
      for (const res of active) if (!res.headersSent) res.setHeader('connection', 'close');
      const timer = setTimeout(() => {
        const cutConnections = active.size;
        server.closeAllConnections();
        resolve({ type: 'timed-out', signal, cutConnections });
      }, options.graceMs);
      timer.unref();
      server.close(() => {
        clearTimeout(timer);
        for (const s of signals) emitter.off(s, onSignal);
        resolve({ type: 'drained', signal });
      });
      options.onDraining?.(signal, active.size);
    };
    for (const s of signals) emitter.on(s, onSignal);
  });
}
