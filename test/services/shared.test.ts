import Router from '@koa/router';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import http from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { jsonBody } from '../../services/shared/json-body.js';
import { createServiceApp, type ServiceApp } from '../../services/shared/service-app.js';
import type { ServiceState } from '../../services/shared/state.js';
import { parseTraceparent } from '../../services/shared/trace.js';
import { LineCollector, type Running, call, fakeClock, serve } from './helpers.js';

const TRACE_ID = '4bf92f3577b34da6a3ce929d0e0e4736';
const PARENT = '00f067aa0ba902b7';

describe('W3C traceparent parsing', () => {
  it('reads the trace id, parent id and flags of a valid header', () => {
    assert.deepEqual(parseTraceparent(`00-${TRACE_ID}-${PARENT}-01`), { traceId: TRACE_ID, parentSpanId: PARENT, flags: '01' });
  });

  it('refuses all-zero ids, upper case, version ff and trailing data on version 00', () => {
    assert.equal(parseTraceparent(`00-${'0'.repeat(32)}-${PARENT}-01`), undefined);
    assert.equal(parseTraceparent(`00-${TRACE_ID}-${'0'.repeat(16)}-01`), undefined);
    assert.equal(parseTraceparent(`00-${TRACE_ID.toUpperCase()}-${PARENT}-01`), undefined);
    assert.equal(parseTraceparent(`ff-${TRACE_ID}-${PARENT}-01`), undefined);
    assert.equal(parseTraceparent(`00-${TRACE_ID}-${PARENT}-01-extra`), undefined);
  });

  it('accepts a future version with extra fields, as the spec asks', () => {
    assert.equal(parseTraceparent(`01-${TRACE_ID}-${PARENT}-01-what-comes-next`)?.traceId, TRACE_ID);
  });
});

describe('the middleware every service shares', () => {
  const log = new LineCollector();
  const errors = new LineCollector();
  const clock = fakeClock();
  let running: Running;
  let app: ServiceApp;

  before(async () => {
    app = createServiceApp('demo', { clock, log, errorLog: errors });
    const router = new Router<ServiceState>();
    router.post('/echo', jsonBody({ limitBytes: 64 }), async (ctx) => {
      clock.advance(7);
      ctx.body = { got: ctx.request.body ?? null, traceId: ctx.state.trace.traceId };
    });
    router.get('/boom', async () => {
      throw new Error('database password is hunter2');
    });
    router.get('/teapot', async (ctx) => ctx.throw(418, 'short and stout'));
    app.use(router.routes());
    running = await serve(app.callback());
  });
  after(() => running.close());

  it('answers GET /healthz with the service name', async () => {
    const res = await call('GET', `${running.url}/healthz`);
    assert.equal(res.status, 200);
    assert.deepEqual(res.body, { status: 'ok', service: 'demo' });
  });

  it('echoes the caller\'s x-request-id and makes a UUID when there is none', async () => {
    const given = await call('GET', `${running.url}/healthz`, { headers: { 'x-request-id': 'req-123' } });
    assert.equal(given.headers.get('x-request-id'), 'req-123');
    const made = await call('GET', `${running.url}/healthz`);
    assert.match(made.headers.get('x-request-id') ?? '', /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    const hostile = await call('GET', `${running.url}/healthz`, { headers: { 'x-request-id': 'a"b{}' } });
    assert.notEqual(hostile.headers.get('x-request-id'), 'a"b{}');
  });

  it('writes one JSON access-log line per request with the trace and the latency, and does not believe a peer identity sent over TCP', async () => {
    const before = log.lines.length;
    const res = await call('POST', `${running.url}/echo?x=1`, {
      json: { a: 1 },
      headers: {
        traceparent: `00-${TRACE_ID}-${PARENT}-01`,
        'x-request-id': 'req-log',
        'x-forwarded-client-cert': 'By=spiffe://cluster.local/ns/meshgw/sa/demo;Hash=00;URI=spiffe://cluster.local/ns/meshgw/sa/orders',
      },
    });
    assert.equal(res.status, 200);
    assert.deepEqual(res.body, { got: { a: 1 }, traceId: TRACE_ID });
    const lines = log.json().slice(before);
    assert.equal(lines.length, 1);
    assert.deepEqual(lines[0], {
      time: new Date(clock.now() - 7).toISOString(),
      service: 'demo',
      requestId: 'req-log',
      traceId: TRACE_ID,
      method: 'POST',
      path: '/echo',
      status: 200,
      latencyMs: 7,
      peer: null,
    });
  });

  it("believes the peer identity only over a Unix socket, the app's private link to its sidecar", async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'mgw-svc-'));
    const server = http.createServer(app.callback());
    try {
      const socketPath = path.join(dir, 'app.sock');
      await new Promise<void>((resolve) => server.listen(socketPath, resolve));
      const before = log.lines.length;
      const status = await new Promise<number>((resolve, reject) => {
        http
          .request({ socketPath, path: '/healthz', headers: { 'x-forwarded-client-cert': 'By=spiffe://cluster.local/ns/meshgw/sa/demo;Hash=ab12;URI=spiffe://cluster.local/ns/meshgw/sa/gateway' } }, (res) => {
            res.resume();
            res.on('end', () => resolve(res.statusCode ?? 0));
          })
          .on('error', reject)
          .end();
      });
      assert.equal(status, 200);
      assert.equal(log.json().slice(before)[0].peer, 'spiffe://cluster.local/ns/meshgw/sa/gateway');
    } finally {
      server.close();
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('starts a new trace when traceparent is missing and logs peer as null', async () => {
    const before = log.lines.length;
    const res = await call('POST', `${running.url}/echo`, { json: {} });
    const [line] = log.json().slice(before);
    assert.match(String(line.traceId), /^[0-9a-f]{32}$/);
    assert.equal(line.traceId, res.body.traceId);
    assert.equal(line.peer, null);
  });

  it('refuses invalid JSON with 400 invalid_json', async () => {
    const res = await call('POST', `${running.url}/echo`, { raw: '{"a":' });
    assert.equal(res.status, 400);
    assert.deepEqual(res.body, { error: { code: 'invalid_json', message: 'request body is not valid JSON' } });
  });

  it('refuses a body over the byte limit with 413 and logs the status', async () => {
    const before = log.lines.length;
    const res = await call('POST', `${running.url}/echo`, { json: { pad: 'x'.repeat(100) } });
    assert.equal(res.status, 413);
    assert.deepEqual(res.body, { error: { code: 'payload_too_large', message: 'request body exceeds 64 bytes' } });
    assert.equal(log.json().slice(before)[0].status, 413);
  });

  it('refuses a body that is not JSON with 415', async () => {
    const res = await call('POST', `${running.url}/echo`, { raw: 'a=1', headers: { 'content-type': 'application/x-www-form-urlencoded' } });
    assert.equal(res.status, 415);
    assert.equal(res.body.error.code, 'unsupported_media_type');
  });

  it('keeps the message of a client error thrown with ctx.throw', async () => {
    const res = await call('GET', `${running.url}/teapot`);
    assert.equal(res.status, 418);
    assert.deepEqual(res.body, { error: { code: 'i_m_a_teapot', message: 'short and stout' } });
  });

  it('answers an unknown route with a JSON 404', async () => {
    const res = await call('GET', `${running.url}/nowhere`);
    assert.equal(res.status, 404);
    assert.deepEqual(res.body, { error: { code: 'not_found', message: 'no route for GET /nowhere' } });
  });

  it('hides the details of a 500 from the client and hands them to the error log', async () => {
    const before = errors.lines.length;
    const res = await call('GET', `${running.url}/boom`, { headers: { 'x-request-id': 'req-boom' } });
    assert.equal(res.status, 500);
    assert.deepEqual(res.body, { error: { code: 'internal_server_error', message: 'Internal Server Error' } });
    const [line] = errors.json().slice(before);
    assert.equal(line.requestId, 'req-boom');
    assert.equal(line.message, 'database password is hunter2');
    assert.equal(line.level, 'error');
  });
});
