import http from 'node:http';

export type ProbeResult = { up: true; status: number } | { up: false; reason: string };

/** An HTTP URL, reached over a Unix socket when socketPath is set (the URL then gives only the path). */
export interface HttpTarget {
  url: string;
  socketPath?: string;
}

/** One HTTP GET with a deadline; any answer means the listener is up. */
export function probeHttp(target: HttpTarget, timeoutMs = 1000): Promise<ProbeResult> {
  return new Promise((resolve) => {
    const options = { timeout: timeoutMs, agent: false as const, ...(target.socketPath ? { socketPath: target.socketPath } : {}) };
    const req = http.get(target.url, options, (res) => {
      res.resume();
      resolve({ up: true, status: res.statusCode ?? 0 });
    });
    req.on('timeout', () => req.destroy(new Error(`no answer within ${timeoutMs} ms`)));
    req.on('error', (err: NodeJS.ErrnoException) => resolve({ up: false, reason: err.code ?? err.message }));
  });
}

export function isHealthy(result: ProbeResult, require200: boolean): boolean {
  return result.up && (!require200 || result.status === 200);
}
