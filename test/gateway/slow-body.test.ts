// Real components: the gateway's Node HTTP server and its undici mesh client, a real HTTP upstream
// that records every connection and request it gets, and slow clients on raw TCP sockets.
import assert from 'node:assert/strict';
import net from 'node:net';
import { Readable } from 'node:stream';
import { describe, it } from 'node:test';
import { Pool } from 'undici';
import { createGateway } from '../../src/gateway/gateway.js';
import { API_KEYS, gatewayConfig, gatewaySpec, LogCollector, route, startUpstream } from './helpers.js';
import { parseRawAnswer } from './raw-http.js';

const KEY = API_KEYS[0].value;
const SLOW_UPLOADS = 70;
const BODY_TIMEOUT_MS = 1_500;
const BYTE_EVERY_MS = 300;

interface SlowUpload {
  /** Resolves with what the gateway answered once it closed the connection. */
  answer: Promise<string>;
  stop(): void;
}

/** A client that declares a 100-byte body and sends it one byte every BYTE_EVERY_MS, as the attacker did. */
function startSlowUpload(port: number): SlowUpload {
  const socket = net.connect(port, '127.0.0.1');
  let raw = '';
  let sent = 0;
  const ticker = setInterval(() => {
    if (sent < 100 && socket.writable) {
      socket.write('x');
      sent++;
    }
  }, BYTE_EVERY_MS);
  socket.on('connect', () =>
    socket.write(`POST /prod/orders HTTP/1.1\r\nHost: 127.0.0.1\r\nx-api-key: ${KEY}\r\ncontent-type: text/plain\r\ncontent-length: 100\r\n\r\n`),
  );
  socket.on('data', (d: Buffer) => (raw += d.toString('latin1')));
  const answer = new Promise<string>((resolve) => {
    socket.on('error', () => undefined);
    socket.on('close', () => {
      clearInterval(ticker);
      resolve(raw);
    });
  });
  return {
    answer,
    stop: () => {
      clearInterval(ticker);
      socket.destroy();
    },
  };
}

async function until(condition: () => boolean, what: string, deadlineMs = 5_000): Promise<void> {
  const deadline = Date.now() + deadlineMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

describe('slow request bodies', { timeout: 20_000 }, () => {
  it('keeps 70 slow uploads at the gateway: a GET stays fast, the upstream never sees them, and each gets a JSON 408', async () => {
    const upstream = await startUpstream();
    const log = new LogCollector();
    // Few upstream connections, as a sidecar has in front of its app: before the gateway read bodies
    // itself, 70 slow uploads held all of them and a GET waited for the upstream timeout.
    const gw = createGateway(gatewaySpec([route('orders', upstream.origin), route('users', upstream.origin)], gatewayConfig({ maxBodyBytes: 1024 })), {
      log,
      connectionsPerUpstream: 8,
      upstreamTimeoutMs: 4_000,
      bodyReadTimeoutMs: BODY_TIMEOUT_MS,
    });
    const port = await gw.listen();
    const slow: SlowUpload[] = [];
    const client = new Pool(`http://127.0.0.1:${port}`, { connections: 1 });
    try {
      for (let i = 0; i < SLOW_UPLOADS; i++) slow.push(startSlowUpload(port));
      await until(() => gw.inFlight() === SLOW_UPLOADS, `${SLOW_UPLOADS} slow uploads in flight`);

      const started = performance.now();
      const res = await client.request({ path: '/prod/users/me', method: 'GET', headers: { 'x-api-key': KEY } });
      await res.body.text();
      const latencyMs = performance.now() - started;
      assert.equal(res.statusCode, 200);
      assert.ok(latencyMs < BODY_TIMEOUT_MS / 4, `the GET took ${latencyMs.toFixed(0)} ms beside ${SLOW_UPLOADS} slow uploads`);

      const answers = await Promise.all(slow.map((s) => s.answer));
      for (const raw of answers) {
        const a = parseRawAnswer(raw);
        assert.equal(a.status, 408, raw.slice(0, 200));
        assert.equal(a.headers['content-type'], 'application/json');
        assert.deepEqual(JSON.parse(a.body), { message: 'Request Timeout' });
        assert.match(a.headers['x-amzn-requestid'] ?? '', /^[0-9a-f-]{36}$/);
      }
      assert.deepEqual(
        upstream.seen.map((r) => `${r.method} ${r.url}`),
        ['GET /users/me'],
        'only the GET reached the upstream',
      );
      await log.waitFor(SLOW_UPLOADS + 1);
      const timedOut = log.records.filter((r) => r.status === 408);
      assert.equal(timedOut.length, SLOW_UPLOADS);
      assert.ok(timedOut.every((r) => r.integrationLatency === -1 && r.errorType === 'DEFAULT_4XX'));
      assert.equal(upstream.connections(), 1, 'the GET opened the only upstream connection');
    } finally {
      for (const s of slow) s.stop();
      await client.close();
      await gw.close();
      await upstream.close();
    }
  });

  it('forwards a body that arrives within the deadline whole, chunked or not', async () => {
    const upstream = await startUpstream();
    const gw = createGateway(gatewaySpec([route('orders', upstream.origin)]), { log: new LogCollector(), bodyReadTimeoutMs: BODY_TIMEOUT_MS });
    const client = new Pool(`http://127.0.0.1:${await gw.listen()}`);
    try {
      async function* chunks() {
        for (let i = 0; i < 3; i++) yield Buffer.alloc(200, 0x61 + i);
      }
      const chunked = await client.request({ path: '/prod/orders', method: 'POST', headers: { 'x-api-key': KEY }, body: Readable.from(chunks()) });
      assert.equal(chunked.statusCode, 200);
      assert.equal(((await chunked.body.json()) as { bodyLength: number }).bodyLength, 600);
      const declared = await client.request({ path: '/prod/orders', method: 'POST', headers: { 'x-api-key': KEY }, body: 'y'.repeat(500) });
      assert.equal(((await declared.body.json()) as { bodyLength: number }).bodyLength, 500);
      assert.equal(upstream.seen[0].body, 'a'.repeat(200) + 'b'.repeat(200) + 'c'.repeat(200));
      assert.equal(upstream.seen[0].headers['content-length'], '600', 'a buffered body goes upstream with its length');
    } finally {
      await client.close();
      await gw.close();
      await upstream.close();
    }
  });
});
