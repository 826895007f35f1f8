/**
 * A one-shot HTTPS client for poking a sidecar's inbound listener with chosen credentials (or
 * none, or plaintext) and reporting exactly what happened: an answer, or a refusal during or
 * right after the handshake. Used by `verify mtls` and the sidecar tests.
 */
import http from 'node:http';
import https from 'node:https';
import type { TLSSocket } from 'node:tls';
import { parseSubjectAltName } from '../pki/describe.js';

export interface ProbeRequest {
  /** https://127.0.0.1:P (or http:// for a plaintext probe) */
  url: string;
  method?: string;
  path?: string;
  headers?: Record<string, string>;
  body?: string;
  /** Trust for the server's certificate (the mesh CA). */
  ca?: string;
  /** The client certificate and key to present; omit both to present none. */
  cert?: string;
  key?: string;
  timeoutMs?: number;
}

export type ProbeOutcome =
  | { type: 'response'; status: number; body: string; headers: http.IncomingHttpHeaders; serverIdentity?: string; serverFingerprint?: string; tlsVersion?: string }
  /** handshake: the TLS handshake itself failed; after-handshake: TLS 1.3 finished on our side, then the server cut us off. */
  | { type: 'refused'; stage: 'handshake' | 'after-handshake' | 'connection'; error: string };

/** The error's code, plus its message when that says more (OpenSSL's long traces are left out). */
function errorText(err: unknown): string {
  const e = err as { code?: string; message?: string };
  if (!e.code) return e.message ?? String(err);
  const extra = e.message && !e.message.includes(e.code) && !e.message.includes('SSL routines') ? `: ${e.message}` : '';
  return e.code + extra;
}

/** Sends one request and resolves with what came back; never rejects. */
export function probe(req: ProbeRequest): Promise<ProbeOutcome> {
  const url = new URL(req.url);
  const tlsRequest = url.protocol === 'https:';
  return new Promise((resolve) => {
    let handshakeDone = false;
    let settled = false;
    const finish = (o: ProbeOutcome) => {
      if (settled) return;
      settled = true;
      resolve(o);
    };
    const options: https.RequestOptions = {
      host: url.hostname,
      port: Number(url.port),
      method: req.method ?? 'GET',
      path: req.path ?? '/',
      headers: { connection: 'close', ...(req.body !== undefined ? { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(req.body)) } : {}), ...req.headers },
      agent: false,
    };
    const r = tlsRequest
      ? https.request({
          ...options,
          ca: req.ca,
          cert: req.cert,
          key: req.key,
          rejectUnauthorized: req.ca !== undefined,
          // The server is checked by CA here; its SPIFFE ID is reported, not matched.
          checkServerIdentity: () => undefined,
        })
      : http.request(options);
    r.on('socket', (socket) => {
      if (tlsRequest) (socket as TLSSocket).once('secureConnect', () => (handshakeDone = true));
    });
    r.setTimeout(req.timeoutMs ?? 5_000, () => r.destroy(Object.assign(new Error('no answer in time'), { code: 'ETIMEDOUT' })));
    r.on('error', (err) => finish({ type: 'refused', stage: !tlsRequest ? 'connection' : handshakeDone ? 'after-handshake' : 'handshake', error: errorText(err) }));
    r.on('response', (res) => {
      // Read the peer certificate now: after 'end' the socket may already be torn down.
      const socket = res.socket as TLSSocket;
      const peer = tlsRequest ? socket.getPeerCertificate() : undefined;
      const tlsVersion = tlsRequest ? (socket.getProtocol() ?? undefined) : undefined;
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('error', (err) => finish({ type: 'refused', stage: 'after-handshake', error: errorText(err) }));
      res.on('end', () => {
        finish({
          type: 'response',
          status: res.statusCode ?? 0,
          body: Buffer.concat(chunks).toString('utf8'),
          headers: res.headers,
          ...(peer && peer.raw ? { serverIdentity: parseSubjectAltName(peer.subjectaltname).uris[0], serverFingerprint: peer.fingerprint256, tlsVersion } : {}),
        });
      });
    });
    r.end(req.body);
  });
}
