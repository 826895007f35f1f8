/**
 * Answers for requests Node's HTTP parser refuses before any handler sees them (a malformed
 * request line, headers over maxHeaderSize, headers or a request that took too long). Node's own
 * answer has an empty body; every meshgw server answers them in JSON instead, in the one shape the
 * gateway's errors have ({"message": ...}). Imports only node: built-ins, so the services' images
 * can carry it beside listener.ts.
 */
import type { Duplex } from 'node:stream';

interface ParserRefusal {
  status: number;
  /** The whole HTTP/1.1 response, written once per refusal. */
  raw: string;
}

function refusal(status: number, reason: string): ParserRefusal {
  const body = JSON.stringify({ message: reason });
  const raw =
    `HTTP/1.1 ${status} ${reason}\r\n` +
    'Content-Type: application/json\r\n' +
    `Content-Length: ${Buffer.byteLength(body)}\r\n` +
    'Connection: close\r\n\r\n' +
    body;
  return { status, raw };
}

const BAD_REQUEST = refusal(400, 'Bad Request');
const REQUEST_TIMEOUT = refusal(408, 'Request Timeout');
const CONTENT_TOO_LARGE = refusal(413, 'Content Too Large');
const HEADERS_TOO_LARGE = refusal(431, 'Request Header Fields Too Large');

/** The status Node itself would answer for a parser error code (lib/_http_server.js, socketOnError). */
function refusalFor(code: string | undefined): ParserRefusal {
  switch (code) {
    case 'HPE_HEADER_OVERFLOW':
      return HEADERS_TOO_LARGE;
    case 'HPE_CHUNK_EXTENSIONS_OVERFLOW':
      return CONTENT_TOO_LARGE;
    case 'ERR_HTTP_REQUEST_TIMEOUT':
      return REQUEST_TIMEOUT;
    default:
      return BAD_REQUEST;
  }
}

/** The status answerClientError writes for an error, for logs and tests. */
export function clientErrorStatus(err: Error & { code?: string }): number {
  return refusalFor(err.code).status;
}

/**
 * How long a refused connection stays open after the answer, reading and discarding what the
 * client still sends. Closing a socket with unread input makes the kernel send RST, which can
 * destroy the answer before the client reads it; nginx lingers for the same reason
 * (lingering_timeout, 5 s by default).
 */
export const CLIENT_ERROR_LINGER_MS = 5_000;

/** Connections already answered: the parser reports every later chunk again, and those are ignored. */
const answered = new WeakSet<Duplex>();

function destroySocket(socket: Duplex): void {
  socket.destroy();
}

/**
 * A 'clientError' listener for any http or https server: answers the parser's refusal with a JSON
 * body and closes the connection. Writes nothing when the peer is gone or when a response on
 * this connection has already begun (a second status line would corrupt what the peer reads).
 * Never throws.
 */
export function answerClientError(err: Error & { code?: string }, socket: Duplex): void {
  if (answered.has(socket)) return;
  const inFlight = (socket as Duplex & { _httpMessage?: { headersSent?: boolean } | null })._httpMessage;
  if (err.code === 'ECONNRESET' || socket.destroyed || !socket.writable || inFlight?.headersSent) {
    socket.destroy();
    return;
  }
  answered.add(socket);
  try {
    socket.end(refusalFor(err.code).raw);
    setTimeout(destroySocket, CLIENT_ERROR_LINGER_MS, socket).unref();
  } catch {
    socket.destroy();
  }
}
