/**
 * What the gateway accepts from a client before it spends anything upstream: header size and
 * count as API Gateway and the mesh behind it allow, and how long headers and bodies may take.
 */
/**
 * A body must arrive whole within 20 s of its request's admission, or the gateway answers 408 and
 * closes the connection. API Gateway documents no figure for slow clients; 20 s lets the default
 * 1 MiB body arrive over a link of ~420 kbit/s, stays under the 29 s integration timeout a
 * client already has to live with, and bounds what a slow client costs: one gateway socket and
 * its buffered bytes for 20 s, never an upstream connection (Node's own requestTimeout, 300 s,
 * let about 70 slow uploads hold a sidecar's connections to its app).
 */
export const DEFAULT_BODY_READ_TIMEOUT_MS = 20_000;
/** A request's headers must arrive within 10 s (Node's default is 60 s): real clients send them in one write. */
export const DEFAULT_HEADERS_TIMEOUT_MS = 10_000;
/**
 * API Gateway REST's quota: "Total combined size of request line and header values: 10240 bytes".
 * Node's maxHeaderSize counts the request line and the header lines (names too), and past it the
 * parser refuses the request with 431 (answered in JSON by answerClientError).
 */
export const MAX_HEADER_BYTES = 10_240;
/**
 * API Gateway documents no header count, but the mesh behind it has one: Envoy (Istio's sidecar)
 * answers 431 past 100 request headers (max_headers_count), and Node silently drops headers past
 * 2000 (server.maxHeadersCount), which let ~1,900 client headers push out the identity headers the
 * gateway and sidecar append. The gateway adds up to six (request id, two trace headers,
 * x-forwarded-for, key id, usage plan) and a sidecar two (peer identity, XFCC), so a client may
 * send 90, and every hop keeps what the gateway and the sidecar set.
 */
export const MAX_HEADER_COUNT = 90;
/** How often Node checks headersTimeout and requestTimeout (its default, 30 s, would make a 10 s bound fire at up to 40 s). */
export const CONNECTIONS_CHECK_INTERVAL_MS = 1_000;
