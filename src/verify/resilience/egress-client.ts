/**
 * Requests sent the way a service's app sends them: plain HTTP on its sidecar's egress Unix
 * socket (the socket folder is the app's and its sidecar's; verify runs as the same user). Used to
 * push one caller past its connection limits without the gateway's throttle in between.
 */
import http from 'node:http';

export interface EgressAnswer {
  /** 0: no answer (error or timeout). */
  status: number;
  ms: number;
  /** The answer's body and headers that say why (first 200 characters). */
  reason: string;
  error?: string;
}

export interface EgressClient {
  get(socketPath: string, host: string, path: string, timeoutMs: number): Promise<EgressAnswer>;
}

export function unixEgressClient(): EgressClient {
  return {
    get(socketPath, host, path, timeoutMs) {
      const started = performance.now();
      return new Promise((resolve) => {
        let settled = false;
        const done = (a: Omit<EgressAnswer, 'ms'>) => {
          if (settled) return;
          settled = true;
          resolve({ ...a, ms: Math.round(performance.now() - started) });
        };
        // A connection of its own per request (agent: false): each one takes a connection slot.
        const req = http.request({ socketPath, path, method: 'GET', headers: { host }, agent: false, timeout: timeoutMs }, (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => {
            const flags = ['x-envoy-overloaded', 'x-meshgw-reason'].flatMap((h) => (res.headers[h] ? [`${h}: ${String(res.headers[h])}`] : []));
            done({ status: res.statusCode ?? 0, reason: [...flags, Buffer.concat(chunks).toString('utf8')].join(' ').replace(/\s+/g, ' ').slice(0, 200) });
          });
          res.on('error', (err) => done({ status: 0, reason: '', error: err.message }));
        });
        req.on('timeout', () => {
          req.destroy();
          done({ status: 0, reason: '', error: `no answer within ${timeoutMs} ms` });
        });
        req.on('error', (err) => done({ status: 0, reason: '', error: err.message }));
        req.end();
      });
    },
  };
}
