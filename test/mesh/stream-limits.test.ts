/**
 * Issue 14, item 2 (sidecar side) and item 9: slow uploads must not starve a sidecar's app, and a
 * failed hop must not tell the client internal addresses. Real sockets throughout: mTLS clients
 * (node:tls with a mesh certificate) against a real sidecar in front of a real HTTP app on its
 * private Unix socket; the spec's limits shrink Envoy's timeouts so each test takes seconds.
 */
import assert from 'node:assert/strict';
import http from 'node:http';
import tls from 'node:tls';
import { after, before, describe, it } from 'node:test';
import type { IssuedCert } from '../../src/pki/issue.js';
import { probe } from '../../src/mesh/probe.js';
import type { SidecarLimits } from '../../src/mesh/spec.js';
import { callEgress, createTestPki, egressTo, getJson, id, privateSocket, sidecarSpec, startSidecar, type RunningSidecar, type TestPki } from './fixtures.js';

/** An app that counts requests in flight and answers each one once its body is in, unless `hold` keeps it waiting. */
async function startCountingApp(hold = false): Promise<{ socketPath: string; inFlight: () => number; peak: () => number; release(): void; close(): Promise<void> }> {
  let inFlight = 0;
  let peak = 0;
  const held: http.ServerResponse[] = [];
  const server = http.createServer((req, res) => {
    inFlight++;
    peak = Math.max(peak, inFlight);
    res.once('close', () => inFlight--);
    req.resume();
    req.on('end', () => {
      if (hold) held.push(res);
      else res.end(JSON.stringify({ ok: true, path: req.url }));
    });
  });
  const socketPath = privateSocket('counting');
  await new Promise<void>((r) => server.listen(socketPath, r));
  return {
    socketPath,
    inFlight: () => inFlight,
    peak: () => peak,
    release: () => {
      for (const res of held.splice(0)) res.end('{"ok":true}');
    },
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}

interface RawAnswer {
  status: number;
  body: string;
  /** ms from the first byte sent to the answer. */
  ms: number;
}

/**
 * An mTLS client that sends a request's head announcing `length` body bytes, then one byte every
 * `everyMs` until `bytes` were sent (or the server answered). Resolves with the server's answer.
 */
function slowUpload(port: number, ca: string, cert: IssuedCert, o: { length: number; bytes: number; everyMs: number }): Promise<RawAnswer> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const chunks: Buffer[] = [];
    let sent = 0;
    let timer: NodeJS.Timeout | undefined;
    const socket = tls.connect({ host: '127.0.0.1', port, ca, cert: cert.certPem, key: cert.keyPem, checkServerIdentity: () => undefined }, () => {
      socket.write(`POST /orders HTTP/1.1\r\nhost: orders\r\ncontent-type: application/json\r\ncontent-length: ${o.length}\r\n\r\n`);
      timer = setInterval(() => {
        if (sent >= o.bytes || socket.destroyed) return clearInterval(timer);
        socket.write('x');
        sent++;
      }, o.everyMs);
    });
    socket.on('data', (d: Buffer) => chunks.push(d));
    socket.on('error', () => undefined);
    socket.on('close', () => {
      clearInterval(timer);
      const text = Buffer.concat(chunks).toString('utf8');
      const m = /^HTTP\/1\.1 (\d{3})/.exec(text);
      if (!m) return reject(new Error(`no HTTP answer after ${Math.round(performance.now() - started)} ms (sent ${sent} bytes)`));
      resolve({ status: Number(m[1]), body: text.slice(text.indexOf('\r\n\r\n') + 4), ms: performance.now() - started });
    });
  });
}

/** Polls `cond` every 20 ms until it holds or `ms` pass. */
async function until(cond: () => boolean, ms: number, what: string): Promise<void> {
  const deadline = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('sidecar stream limits (Envoy stream_idle_timeout, request_timeout, max_pending_requests)', () => {
  let pki: TestPki;
  let gateway: IssuedCert;
  const cleanups: (() => Promise<unknown>)[] = [];

  before(async () => {
    pki = await createTestPki();
    gateway = await pki.leaf('gateway');
  });

  after(async () => {
    for (const c of cleanups.reverse()) await c();
    await pki?.cleanup();
  });

  async function sidecarFor(appSocket: string, limits: SidecarLimits, logs?: Record<string, unknown>[]): Promise<RunningSidecar> {
    const spec = { ...sidecarSpec('orders', await pki.files('orders'), appSocket, [id('gateway')]), limits };
    const sc = await startSidecar(spec, logs ? { log: (line) => void logs.push(line) } : {});
    cleanups.push(() => sc.stop());
    return sc;
  }

  const normalRequest = (sc: RunningSidecar) => probe({ url: sc.inboundUrl, path: '/users/me', ca: pki.ca.certPem, cert: gateway.certPem, key: gateway.keyPem, timeoutMs: 20_000 });

  it('keeps serving a normal request while 70 slow uploads are open, then cuts each upload with 408 and counts downstream_rq_timeout', async () => {
    const app = await startCountingApp();
    cleanups.push(() => app.close());
    const sc = await sidecarFor(app.socketPath, { requestTimeoutMs: 4_000, streamIdleTimeoutMs: 3_000 });
    const uploads = Array.from({ length: 70 }, () => slowUpload(sc.addr.inboundPort, pki.ca.certPem, gateway, { length: 100, bytes: 100, everyMs: 250 }));
    // The old sidecar stopped at 64 connections to its app: wait until at least that many uploads reached it.
    await until(() => app.inFlight() >= 64, 10_000, '64 uploads in flight at the app');

    const started = performance.now();
    const normal = await normalRequest(sc);
    const normalMs = performance.now() - started;
    assert.equal(normal.type === 'response' && normal.status, 200, JSON.stringify(normal));
    assert.ok(normalMs < 1_500, `a normal request took ${Math.round(normalMs)} ms behind the slow uploads`);

    const answers = await Promise.all(uploads);
    assert.ok(app.peak() >= 70, `all 70 uploads reached the app at once (peak ${app.peak()})`);
    for (const a of answers) {
      assert.equal(a.status, 408, a.body);
      assert.deepEqual(JSON.parse(a.body), { error: { code: 'REQUEST_TIMEOUT', message: 'request timeout' } });
      assert.ok(a.ms < 10_000, `cut after ${Math.round(a.ms)} ms`);
    }
    await until(() => app.inFlight() === 0, 5_000, 'the app connections to be freed');
    const stats = (await getJson<Record<string, number>>(`${sc.adminUrl}/stats`)).body;
    assert.equal(stats['http.inbound.downstream_rq_timeout'], 70);
    assert.equal(stats['http.inbound.downstream_rq_idle_timeout'], 0);
  });

  it('cuts a stalled upload with 408 and a stalled app with 504 after stream_idle_timeout, counting downstream_rq_idle_timeout', async () => {
    const app = await startCountingApp(true);
    cleanups.push(() => app.close());
    const sc = await sidecarFor(app.socketPath, { streamIdleTimeoutMs: 600, requestTimeoutMs: 60_000 });

    const stalled = await slowUpload(sc.addr.inboundPort, pki.ca.certPem, gateway, { length: 100, bytes: 10, everyMs: 10 });
    assert.equal(stalled.status, 408);
    assert.deepEqual(JSON.parse(stalled.body), { error: { code: 'STREAM_IDLE_TIMEOUT', message: 'stream timeout' } });

    // The whole request arrived; the app never answers: Envoy answers 504 then.
    const waiting = await slowUpload(sc.addr.inboundPort, pki.ca.certPem, gateway, { length: 4, bytes: 4, everyMs: 5 });
    assert.equal(waiting.status, 504);
    assert.equal((JSON.parse(waiting.body) as { error: { code: string } }).error.code, 'STREAM_IDLE_TIMEOUT');
    await until(() => app.inFlight() === 0, 5_000, 'the app connections to be freed');

    const stats = (await getJson<Record<string, number>>(`${sc.adminUrl}/stats`)).body;
    assert.equal(stats['http.inbound.downstream_rq_idle_timeout'], 2);
  });

  it('answers 503 at once when the connections and the pending queue are full, and counts upstream_rq_pending_overflow', async () => {
    const app = await startCountingApp(true);
    cleanups.push(() => app.close());
    const sc = await sidecarFor(app.socketPath, { maxConnections: 2, maxPendingRequests: 1 });
    const held = [normalRequest(sc), normalRequest(sc), normalRequest(sc)];
    await until(() => app.inFlight() === 2, 5_000, 'two requests at the app');
    await until(() => sc.sidecar.counters.get('http.inbound.rq_total') === 3, 5_000, 'the third request queued');

    const started = performance.now();
    const overflow = await normalRequest(sc);
    assert.equal(overflow.type === 'response' && overflow.status, 503, JSON.stringify(overflow));
    assert.ok(performance.now() - started < 1_000, 'refused at once, not queued');
    assert.deepEqual(overflow.type === 'response' && JSON.parse(overflow.body), {
      error: { code: 'UPSTREAM_OVERFLOW', message: 'upstream connect error or disconnect/reset before headers. reset reason: overflow' },
    });
    assert.equal(sc.sidecar.counters.get('cluster.inbound.upstream_rq_pending_overflow'), 1);

    app.release();
    await until(() => app.inFlight() === 1, 5_000, 'the queued request to reach the app');
    app.release();
    for (const r of await Promise.all(held)) assert.equal(r.type === 'response' && r.status, 200);
  });
});

describe('egress stream limits', () => {
  it('answers an app 504 when its backend goes quiet past stream_idle_timeout, and counts it for that backend', async () => {
    const pki = await createTestPki();
    const usersApp = await startCountingApp(true);
    const ordersApp = await startCountingApp();
    const users = await startSidecar(sidecarSpec('users', await pki.files('users'), usersApp.socketPath, [id('orders')]));
    const spec = { ...sidecarSpec('orders', await pki.files('orders'), ordersApp.socketPath, [id('gateway')], [egressTo('users', users.inboundUrl, id('users'))]), limits: { streamIdleTimeoutMs: 500 } };
    const orders = await startSidecar(spec);
    try {
      const res = await callEgress(orders.addr.egress.users, '/users/1');
      assert.equal(res.status, 504, res.body);
      assert.equal((JSON.parse(res.body) as { error: { code: string } }).error.code, 'STREAM_IDLE_TIMEOUT');
      assert.equal(orders.sidecar.counters.get('http.egress.users.downstream_rq_idle_timeout'), 1);
      await until(() => usersApp.inFlight() === 0, 5_000, "the backend's request to be cancelled");
    } finally {
      await orders.stop();
      await users.stop();
      await Promise.all([usersApp.close(), ordersApp.close()]);
      await pki.cleanup();
    }
  });
});

describe('sidecar error answers (issue 14, item 9)', () => {
  it("answers 503 with Envoy's generic reason and keeps the app's address in its own log", async () => {
    const pki = await createTestPki();
    const appSocket = privateSocket('gone');
    const logs: Record<string, unknown>[] = [];
    const sc = await startSidecar(sidecarSpec('orders', await pki.files('orders'), appSocket, [id('gateway')]), { log: (line) => void logs.push(line) });
    try {
      const gateway = await pki.leaf('gateway');
      const outcome = await probe({ url: sc.inboundUrl, path: '/orders', ca: pki.ca.certPem, cert: gateway.certPem, key: gateway.keyPem });
      assert.equal(outcome.type === 'response' && outcome.status, 503, JSON.stringify(outcome));
      const body = outcome.type === 'response' ? outcome.body : '';
      assert.deepEqual(JSON.parse(body), {
        error: { code: 'UPSTREAM_UNAVAILABLE', message: 'upstream connect error or disconnect/reset before headers. reset reason: connection failure' },
      });
      for (const leak of [appSocket, 'ENOENT', 'ECONNREFUSED', '127.0.0.1']) assert.ok(!body.includes(leak), `the answer names ${leak}`);
      const line = logs.find((l) => l.event === 'request' && l.status === 503);
      assert.match(String(line?.detail), /ENOENT|ECONNREFUSED/, 'the sidecar log keeps the detail');
    } finally {
      await sc.stop();
      await pki.cleanup();
    }
  });
});
