// The gateway decides a burst on when its requests arrived, not on when each one's turn to be
// parsed came (issue 13): a real gateway on the system clock, a burst written on raw sockets, and
// a loop made slow on purpose between the decisions.
import assert from 'node:assert/strict';
import net from 'node:net';
import { after, before, describe, it } from 'node:test';
import { createGateway } from '../../src/gateway/gateway.js';
import { systemClock } from '../../src/gateway/clock.js';
import { API_KEYS, gatewayConfig, gatewaySpec, LogCollector, route, startUpstream, type FakeUpstream } from './helpers.js';

/** An access log whose every 429 line holds the event loop for `ms`, like a CPU-starved gateway. */
class SlowOnThrottleLog extends LogCollector {
  constructor(private readonly ms: number) {
    super();
  }
  override _write(chunk: Buffer, enc: BufferEncoding, done: (err?: Error | null) => void): void {
    if (chunk.toString('utf8').includes('"status":429')) {
      const until = performance.now() + this.ms;
      while (performance.now() < until);
    }
    super._write(chunk, enc, done);
  }
}

function openSockets(port: number, n: number): Promise<net.Socket[]> {
  return Promise.all(Array.from({ length: n }, () => new Promise<net.Socket>((resolve, reject) => {
    const s = net.connect(port, '127.0.0.1', () => resolve(s));
    s.once('error', reject);
  })));
}

/** Writes one request and resolves with its answer's status (answers are small: one read holds the status line). */
function exchange(socket: net.Socket, request: Buffer): Promise<number> {
  const status = new Promise<number>((resolve) => {
    socket.once('data', (c: Buffer) => resolve(Number(/^HTTP\/1\.1 (\d{3})/.exec(c.toString('latin1'))?.[1] ?? 0)));
  });
  socket.write(request);
  return status;
}

describe('the gateway clock', () => {
  let upstream: FakeUpstream;
  before(async () => {
    upstream = await startUpstream();
  });
  after(() => upstream.close());

  it('stamps one event-loop turn with one time', async () => {
    const a = systemClock.arrivalMs!();
    const until = performance.now() + 5;
    while (performance.now() < until);
    assert.equal(systemClock.arrivalMs!(), a, 'the same turn reads the same time');
    await new Promise((r) => setImmediate(r));
    assert.ok(systemClock.arrivalMs!() >= a + 5, 'the next turn reads a new time');
  });

  it('does not carry a time read in a check phase into a later turn', async () => {
    const read = await new Promise<number>((resolve) => setImmediate(() => resolve(systemClock.arrivalMs!())));
    await new Promise((r) => setTimeout(r, 20));
    assert.ok(systemClock.arrivalMs!() >= read + 19);
  });

  it('admits exactly the burst of requests that arrived together, however slowly the loop decides them', async () => {
    // 100 rps refills a token every 10 ms; each 429 below holds the loop for 25 ms. Stamped per
    // request, every request after the first 429 would find two tokens refilled.
    const log = new SlowOnThrottleLog(25);
    const gw = createGateway(gatewaySpec([route('orders', upstream.origin)], gatewayConfig({ methodThrottles: [{ method: 'POST', path: '/orders', rate: 100, burst: 5 }] })), { log, clock: systemClock });
    const port = await gw.listen();
    const sockets = await openSockets(port, 12);
    try {
      // Each connection is accepted and used once first: the burst then reaches sockets the gateway is already reading.
      const warmup = Buffer.from('GET /prod/nowhere HTTP/1.1\r\nhost: 127.0.0.1\r\ncontent-length: 0\r\n\r\n');
      assert.deepEqual(await Promise.all(sockets.map((s) => exchange(s, warmup))), sockets.map(() => 403));
      const request = Buffer.from(`POST /prod/orders HTTP/1.1\r\nhost: 127.0.0.1\r\nx-api-key: ${API_KEYS[0].value}\r\ncontent-length: 2\r\ncontent-type: application/json\r\n\r\n{}`);
      const answered = await Promise.all(sockets.map((s) => exchange(s, request)));
      assert.equal(answered.filter((s) => s === 200).length, 5, `statuses ${answered.join(',')}`);
      assert.equal(answered.filter((s) => s === 429).length, 7);
    } finally {
      for (const s of sockets) s.destroy();
      await gw.close();
    }
  });
});
