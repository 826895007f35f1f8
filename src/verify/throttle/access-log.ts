/**
 * Reading a throttle phase's records back from the local gateway's access log: the JSON lines the
 * gateway writes to its stdout, which the supervisor sends to <stateDir>/logs/gateway.log (see
 * local/plan.ts). A phase marks the file's end before it starts and reads only what came after, so a
 * long-lived log costs nothing; lines other than access records (the "listening" event) are skipped.
 */
import { open, stat } from 'node:fs/promises';
import type { ThrottleLayer } from '../../metrics/contract.js';
import type { LoggedRequest } from './attribution.js';

/** Where a phase's access-log records come from. */
export interface ThrottleLogSource {
  /** A position to read from later: taken just before a phase starts. */
  mark(): Promise<number>;
  /**
   * The records of these request ids written since `from`, polled until all are there or the
   * deadline passes (the gateway writes a line as it answers, so one may trail the client's answer).
   */
  find(requestIds: readonly string[], from: number): Promise<Map<string, LoggedRequest>>;
}

export interface FileLogOptions {
  /** How long to wait for records still missing; default 3 s. */
  waitMs?: number;
  pollMs?: number;
  now?: () => number;
  sleep?: (ms: number) => Promise<void>;
}

const LAYERS: ReadonlySet<string> = new Set<ThrottleLayer>(['account', 'method', 'usagePlan', 'quota']);

/** One line parsed as an access record, or undefined for any other line. */
export function parseAccessLine(line: string): LoggedRequest | undefined {
  if (!line.startsWith('{')) return undefined;
  let v: unknown;
  try {
    v = JSON.parse(line);
  } catch {
    return undefined;
  }
  const r = v as { requestId?: unknown; status?: unknown; throttleLayer?: unknown };
  if (typeof r.requestId !== 'string' || typeof r.status !== 'number') return undefined;
  const layer = typeof r.throttleLayer === 'string' && LAYERS.has(r.throttleLayer) ? (r.throttleLayer as ThrottleLayer) : null;
  return { requestId: r.requestId, status: r.status, throttleLayer: layer };
}

/** The local gateway's log file as a ThrottleLogSource. */
export function fileThrottleLog(file: string, opts: FileLogOptions = {}): ThrottleLogSource {
  const waitMs = opts.waitMs ?? 3_000;
  const pollMs = opts.pollMs ?? 50;
  const now = opts.now ?? Date.now;
  const sleep = opts.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  return {
    async mark() {
      return (await stat(file)).size;
    },
    async find(requestIds, from) {
      const wanted = new Set(requestIds);
      const found = new Map<string, LoggedRequest>();
      const deadline = now() + waitMs;
      let offset = from;
      for (;;) {
        // Whole lines only: a line still being written is read again, whole, at the next poll.
        const chunk = await readFrom(file, offset);
        const end = chunk.lastIndexOf(0x0a);
        offset += end + 1;
        for (const line of end < 0 ? [] : chunk.subarray(0, end).toString('utf8').split('\n')) {
          const rec = parseAccessLine(line);
          if (rec && wanted.has(rec.requestId)) found.set(rec.requestId, rec);
        }
        if (found.size >= wanted.size || now() >= deadline) return found;
        await sleep(pollMs);
      }
    },
  };
}

async function readFrom(file: string, offset: number): Promise<Buffer> {
  const fh = await open(file, 'r');
  try {
    const size = (await fh.stat()).size;
    if (size <= offset) return Buffer.alloc(0);
    const buf = Buffer.alloc(size - offset);
    const { bytesRead } = await fh.read(buf, 0, buf.length, offset);
    return buf.subarray(0, bytesRead);
  } finally {
    await fh.close();
  }
}
