/**
 * Replicas for the data-plane tests: real TLS servers on 127.0.0.1 that demand a client certificate
 * from the test mesh CA and present a SPIFFE SVID, as a sidecar's inbound listener does, with a
 * switchable behaviour (answer, answer 503, hold the answer, delay it) and an abrupt kill.
 */
import https from 'node:https';
import type { ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { TLSSocket } from 'node:tls';
import { trafficPolicySchema, type TrafficPolicy } from '../../src/config/traffic-policy.js';
import type { TlsMaterial } from '../../src/dataplane/tls-material.js';

export type ReplicaMode = { type: 'ok' } | { type: 'draining' } | { type: 'status'; status: number } | { type: 'hold' } | { type: 'delay'; ms: number };

export interface Replica {
  origin: string;
  mode: ReplicaMode;
  /** Requests served (answered or held), by method. */
  seen: { method: string; body: string }[];
  /** Answers being held (mode hold). */
  held: ServerResponse[];
  /** Serial numbers of the client certificates seen, one per request. */
  peerSerials: string[];
  release(): void;
  /** Stops listening and cuts every connection at once, as a SIGKILL would. */
  kill(): void;
  close(): Promise<void>;
}

export async function startReplica(name: string, material: TlsMaterial, mode: ReplicaMode = { type: 'ok' }): Promise<Replica> {
  const replica: Replica = {
    origin: '',
    mode,
    seen: [],
    held: [],
    peerSerials: [],
    release() {
      for (const res of this.held.splice(0)) res.end(name);
    },
    kill() {
      server.close();
      server.closeAllConnections();
    },
    close() {
      this.kill();
      return new Promise<void>((r) => (server.listening ? server.close(() => r()) : r()));
    },
  };
  const server = https.createServer({ ca: material.ca, cert: material.cert, key: material.key, requestCert: true, rejectUnauthorized: true }, (req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      replica.seen.push({ method: req.method ?? '', body: Buffer.concat(chunks).toString('utf8') });
      replica.peerSerials.push((req.socket as TLSSocket).getPeerCertificate().serialNumber);
      const m = replica.mode;
      if (m.type === 'ok') res.end(name);
      // What a draining listener answers (src/dataplane/listener.ts): the answer, then the connection closes.
      else if (m.type === 'draining') res.setHeader('connection', 'close').end(name);
      else if (m.type === 'status') res.writeHead(m.status).end(name);
      else if (m.type === 'hold') replica.held.push(res);
      else setTimeout(() => res.end(name), m.ms);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  replica.origin = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return replica;
}

/** A full policy from a partial one, with the schema's defaults. */
export function policy(partial: Record<string, unknown>): TrafficPolicy {
  return trafficPolicySchema.parse(partial);
}

/** Polls `cond` every few milliseconds until it holds; fails after `timeoutMs`. */
export async function until(cond: () => boolean, timeoutMs = 5_000, what = 'condition'): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`${what} not met within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 5));
  }
}
