/**
 * The gateway reads a request body whole before it calls the integration, as API Gateway REST
 * does: a service never sees a request that is still arriving, so a slow client holds a gateway
 * socket, never an upstream connection. Two limits apply while it reads: gateway.maxBodyBytes
 * (a chunked body can only be measured as it arrives) and a deadline for the whole body.
 */
import type { IncomingMessage } from 'node:http';

export type BodyOutcome = { type: 'read'; body: Buffer } | { type: 'too-large' } | { type: 'timed-out' } | { type: 'aborted' };

const TOO_LARGE: BodyOutcome = { type: 'too-large' };
const TIMED_OUT: BodyOutcome = { type: 'timed-out' };
const ABORTED: BodyOutcome = { type: 'aborted' };

/** One body being read; kept on the request under a symbol so the listeners below are shared, not per-request closures. */
interface BodyRead {
  chunks: Buffer[];
  size: number;
  limit: number;
  timer: NodeJS.Timeout;
  settle: (outcome: BodyOutcome) => void;
}

const READ = Symbol('meshgw.bodyRead');
type Reading = IncomingMessage & { [READ]?: BodyRead };

function finish(req: Reading, outcome: BodyOutcome | null): void {
  const read = req[READ];
  if (!read) return;
  req[READ] = undefined;
  clearTimeout(read.timer);
  req.off('data', onData);
  req.off('end', onEnd);
  req.off('error', onAbort);
  req.off('close', onAbort);
  read.settle(outcome ?? { type: 'read', body: read.chunks.length === 1 ? read.chunks[0] : Buffer.concat(read.chunks, read.size) });
}

function onData(this: Reading, chunk: Buffer): void {
  const read = this[READ];
  if (!read) return;
  read.size += chunk.length;
  if (read.size > read.limit) {
    // Stop reading: the rest is never buffered, and the answer closes the connection.
    this.pause();
    return finish(this, TOO_LARGE);
  }
  read.chunks.push(chunk);
}

function onEnd(this: Reading): void {
  finish(this, null);
}

function onAbort(this: Reading): void {
  finish(this, ABORTED);
}

function onDeadline(req: Reading): void {
  req.pause();
  finish(req, TIMED_OUT);
}

/** Reads `req`'s whole body, at most `limit` bytes, within `timeoutMs` of the call; never rejects. */
export function readBody(req: IncomingMessage, limit: number, timeoutMs: number): Promise<BodyOutcome> {
  if (req.readableEnded) return Promise.resolve({ type: 'read', body: Buffer.alloc(0) });
  if (req.destroyed) return Promise.resolve(ABORTED);
  return new Promise((settle) => {
    const reading = req as Reading;
    reading[READ] = { chunks: [], size: 0, limit, timer: setTimeout(onDeadline, timeoutMs, reading), settle };
    req.on('data', onData);
    req.on('end', onEnd);
    req.on('error', onAbort);
    req.on('close', onAbort);
  });
}
