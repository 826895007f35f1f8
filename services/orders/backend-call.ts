import { type Dispatcher, request } from 'undici';

export interface BackendCallOptions {
  /** A keep-alive pool shared by every call (created once by main). */
  dispatcher: Dispatcher;
  /** Bound on the whole call: connect, headers and body. */
  timeoutMs: number;
  /** Larger answers are treated as broken rather than buffered. */
  maxResponseBytes: number;
}

/** What came back from a backend, before the caller decides what it means for its own answer. */
export type BackendReply =
  | { type: 'response'; status: number; json: unknown; isJson: boolean }
  | { type: 'unreachable'; detail: string }
  | { type: 'timeout'; detail: string }
  | { type: 'broken'; detail: string };

const UNREACHABLE = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH']);
const TIMEOUT = new Set(['UND_ERR_CONNECT_TIMEOUT', 'UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT']);

function classify(err: unknown): BackendReply {
  const e = err as { code?: unknown; name?: unknown; message?: unknown };
  const code = typeof e.code === 'string' ? e.code : '';
  const detail = `${code || String(e.name)}: ${String(e.message)}`;
  if (TIMEOUT.has(code) || e.name === 'TimeoutError') return { type: 'timeout', detail };
  if (UNREACHABLE.has(code)) return { type: 'unreachable', detail };
  return { type: 'broken', detail };
}

async function readCapped(body: AsyncIterable<Buffer> & { destroy(): unknown }, max: number): Promise<Buffer | undefined> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of body) {
    size += chunk.length;
    if (size > max) {
      body.destroy();
      return undefined;
    }
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}

/** GETs a backend URL and reads its JSON answer; never throws, every failure is a tagged reply. */
export async function getJson(url: string, headers: Record<string, string>, options: BackendCallOptions): Promise<BackendReply> {
  try {
    const res = await request(url, {
      method: 'GET',
      headers: { ...headers, accept: 'application/json' },
      dispatcher: options.dispatcher,
      headersTimeout: options.timeoutMs,
      bodyTimeout: options.timeoutMs,
      signal: AbortSignal.timeout(options.timeoutMs),
    });
    const raw = await readCapped(res.body, options.maxResponseBytes);
    if (!raw) return { type: 'broken', detail: `answer larger than ${options.maxResponseBytes} bytes` };
    try {
      return { type: 'response', status: res.statusCode, json: JSON.parse(raw.toString('utf8')) as unknown, isJson: true };
    } catch {
      return { type: 'response', status: res.statusCode, json: undefined, isJson: false };
    }
  } catch (err) {
    return classify(err);
  }
}
