import type { ServerResponse } from 'node:http';
import { finished, type Readable } from 'node:stream';

/**
 * Streams an upstream body into a response: resolves once the response is finished, rejects (and
 * destroys both sides) when either fails, like stream/promises pipeline(body, res). Written out
 * because pipeline allocates an AbortController per call and aborts it on completion, which
 * builds a DOMException with a stack trace on every request: over a tenth of the gateway's busy CPU
 * under load, and a visible share of a sidecar's (docs/benchmarks.md). Used by both.
 */
export function relayBody(body: Readable, res: ServerResponse): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    let settled = false;
    const settle = (err?: Error | null): void => {
      if (settled) return;
      settled = true;
      if (!err) {
        stopBody();
        stopRes();
        return resolve();
      }
      // On failure the finished() listeners stay: they hear the 'error' events destroy() emits.
      body.destroy(err);
      res.destroy(err);
      reject(err);
    };
    // A body that ends cleanly settles nothing: the response finishing does.
    const stopBody = finished(body, (err) => {
      if (err) settle(err);
    });
    const stopRes = finished(res, (err) => settle(err));
    body.pipe(res);
  });
}
