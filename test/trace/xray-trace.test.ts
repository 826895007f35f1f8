// meshgw trace's aws reader against moto's X-Ray server on loopback (PutTraceSegments, then
// GetTraceSummaries / BatchGetTraces through the real @aws-sdk/client-xray): segments shaped as API
// Gateway documents them and as Istio's Envoy sidecars send them through the ADOT collector.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { PutTraceSegmentsCommand, XRayClient } from '@aws-sdk/client-xray';
import { readAwsTrace, type TraceResult } from '../../src/trace/command.js';
import { createXRayApi } from '../../src/trace/xray-api.js';
import { startMoto, type MotoServer } from '../aws/moto-server.js';

const root = path.resolve(new URL('../../..', import.meta.url).pathname);
const REGION = 'us-east-1';
const cli = path.join(root, 'dist', 'src', 'cli', 'main.js');

let moto: MotoServer;
let dir: string;
const saved = { ...process.env };

before(async () => {
  moto = await startMoto(root);
  dir = await mkdtemp(path.join(tmpdir(), 'meshgw-xray-'));
  Object.assign(process.env, { AWS_ENDPOINT_URL: moto.endpoint, AWS_ACCESS_KEY_ID: 'testing', AWS_SECRET_ACCESS_KEY: 'testing', AWS_EC2_METADATA_DISABLED: 'true' });
});
after(async () => {
  process.env = saved;
  await moto?.stop();
  await rm(dir, { recursive: true, force: true });
});

const hex = (bytes: number) => randomBytes(bytes).toString('hex');

interface Order {
  traceId: string;
  requestId: string;
  /** Seconds each part took: API Gateway, its call through the NLB, the ingress, orders, its two calls. */
  documents: string[];
}

/** One POST /orders as X-Ray holds it: API Gateway → ingress gateway → orders → users and products. */
function orderTrace(startSec: number, scale: number): Order {
  const traceId = `1-${Math.floor(startSec).toString(16)}-${hex(12)}`;
  const requestId = randomUUID();
  const t = (ms: number) => startSec + (ms * scale) / 1000;
  const ids = { gw: hex(8), nlb: hex(8), ingress: hex(8), toOrders: hex(8), orders: hex(8), toUsers: hex(8), toProducts: hex(8), users: hex(8), products: hex(8) };
  const remote = (id: string, name: string, from: number, to: number, url: string, method: string, status: number) => ({ id, name, namespace: 'remote', start_time: t(from), end_time: t(to), http: { request: { url, method }, response: { status } } });
  const docs = [
    {
      id: ids.gw,
      trace_id: traceId,
      name: 'meshgw/prod',
      origin: 'AWS::ApiGateway::Stage',
      start_time: t(0),
      end_time: t(120),
      http: { request: { url: 'https://a1b2c3d4e5.execute-api.us-east-1.amazonaws.com/prod/orders', method: 'POST', client_ip: '203.0.113.9' }, response: { status: 201, content_length: 0 } },
      aws: { api_gateway: { account_id: '123456789012', rest_api_id: 'a1b2c3d4e5', stage: 'prod', request_id: requestId }, xray: { sampling_rule_name: 'Default' } },
      annotations: { 'aws:api_id': 'a1b2c3d4e5', 'aws:api_stage': 'prod' },
      subsegments: [remote(ids.nlb, 'meshgw-nlb-0123456789.elb.us-east-1.amazonaws.com', 4, 116, 'http://meshgw-nlb-0123456789.elb.us-east-1.amazonaws.com:80/orders', 'POST', 201)],
    },
    { id: ids.ingress, trace_id: traceId, parent_id: ids.nlb, name: 'istio-ingressgateway.istio-system', start_time: t(8), end_time: t(112), http: { request: { url: 'http://meshgw-nlb-0123456789.elb.us-east-1.amazonaws.com/orders', method: 'POST' }, response: { status: 201 } }, subsegments: [remote(ids.toOrders, 'orders.meshgw.svc.cluster.local:8080/*', 10, 110, 'http://orders.meshgw.svc.cluster.local:8080/orders', 'POST', 201)] },
    {
      id: ids.orders,
      trace_id: traceId,
      parent_id: ids.toOrders,
      name: 'orders.meshgw',
      start_time: t(12),
      end_time: t(108),
      http: { request: { url: 'http://orders.meshgw.svc.cluster.local:8080/orders', method: 'POST' }, response: { status: 201 } },
      subsegments: [remote(ids.toUsers, 'users.meshgw.svc.cluster.local:8080/*', 20, 40, 'http://users.meshgw.svc.cluster.local:8080/users/me', 'GET', 200), remote(ids.toProducts, 'products.meshgw.svc.cluster.local:8080/*', 50, 70, 'http://products.meshgw.svc.cluster.local:8080/products/p-100', 'GET', 200)],
    },
    { id: ids.users, trace_id: traceId, parent_id: ids.toUsers, name: 'users.meshgw', start_time: t(22), end_time: t(38), http: { request: { url: 'http://users.meshgw.svc.cluster.local:8080/users/me', method: 'GET' }, response: { status: 200 } } },
    { id: ids.products, trace_id: traceId, parent_id: ids.toProducts, name: 'products.meshgw', start_time: t(52), end_time: t(68), http: { request: { url: 'http://products.meshgw.svc.cluster.local:8080/products/p-100', method: 'GET' }, response: { status: 200 } } },
  ];
  return { traceId, requestId, documents: docs.map((d) => JSON.stringify(d)) };
}

async function put(order: Order): Promise<void> {
  const xray = new XRayClient({ region: REGION, endpoint: moto.endpoint, credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' } });
  const res = await xray.send(new PutTraceSegmentsCommand({ TraceSegmentDocuments: order.documents }));
  assert.deepEqual(res.UnprocessedTraceSegments ?? [], [], 'moto accepted every segment');
}

describe("meshgw trace's X-Ray reader (against moto)", () => {
  const now = Date.now();
  const fast = orderTrace(now / 1000 - 120, 1);
  const slow = orderTrace(now / 1000 - 60, 3);

  before(async () => {
    await put(fast);
    await put(slow);
  });

  it('reads a trace by its X-Ray id into the four mesh hops, each nested in its caller, with times from the segments', async () => {
    const api = await createXRayApi({ region: REGION });
    const trace = await readAwsTrace(api, { selector: { type: 'request', id: fast.traceId } });
    assert.equal(trace.source, 'xray');
    assert.equal(trace.traceId, fast.traceId);
    assert.equal(trace.requestId, fast.requestId);
    assert.equal(trace.method, 'POST');
    assert.equal(trace.path, '/prod/orders');
    assert.equal(trace.status, 201);
    assert.ok(Math.abs(trace.durationMs - 120) < 0.2, `API Gateway's segment lasts 120 ms, got ${trace.durationMs}`);
    const hops = trace.spans.filter((s) => s.kind === 'hop').map((s) => [s.name, Math.round(s.durationMs)]);
    assert.deepEqual(hops, [
      ['gateway → istio-ingressgateway', 112],
      ['istio-ingressgateway → orders', 100],
      ['orders → users', 20],
      ['orders → products', 20],
    ]);
    const byId = new Map(trace.spans.map((s) => [s.id, s]));
    for (const s of trace.spans) {
      if (!s.parentId) continue;
      const p = byId.get(s.parentId)!;
      assert.ok(s.startMs >= p.startMs - 1e-6 && s.startMs + s.durationMs <= p.startMs + p.durationMs + 1e-6, `${s.name} within ${p.name}`);
    }
    assert.deepEqual(
      trace.spans.filter((s) => s.kind === 'sidecar').map((s) => s.name),
      ['istio-ingressgateway sidecar (inbound)', 'orders sidecar (inbound)', 'users sidecar (inbound)', 'products sidecar (inbound)'],
    );
  });

  it("finds a trace by API Gateway's request id among the recent summaries", async () => {
    const api = await createXRayApi({ region: REGION });
    const trace = await readAwsTrace(api, { selector: { type: 'request', id: slow.requestId } }, () => now);
    assert.equal(trace.traceId, slow.traceId);
  });

  it('shows the slowest recent POST /orders without an id, through the CLI with --output json', async () => {
    const file = path.join(dir, 'meshgw.yaml');
    await writeFile(file, (await readFile(path.join(root, 'meshgw.yaml'), 'utf8')).replace('target: local', 'target: aws'));
    const run = await new Promise<{ code: number; stdout: string; stderr: string }>((resolve) =>
      execFile(process.execPath, [cli, 'trace', '-c', file, '--output', 'json', '--since', '10'], { timeout: 60_000, env: { ...process.env } }, (err, stdout, stderr) => resolve({ code: err ? Number((err as { code?: number }).code ?? 1) : 0, stdout, stderr })),
    );
    assert.equal(run.code, 0, run.stderr);
    const result = JSON.parse(run.stdout) as TraceResult;
    assert.equal(result.trace.traceId, slow.traceId, 'the 360 ms order, not the 120 ms one');
    assert.ok(Math.abs(result.trace.durationMs - 360) < 0.5);
    assert.deepEqual(
      result.summary.hops.map((h) => [h.hop, h.callee, Math.round(h.meshMs)]),
      [
        ['gateway → istio-ingressgateway', 'sidecar', 24],
        ['istio-ingressgateway → orders', 'sidecar', 12],
        ['orders → users', 'sidecar', 12],
        ['orders → products', 'sidecar', 12],
      ],
    );
  });

  it('says so, with exit 3, when X-Ray has no such trace', async () => {
    const api = await createXRayApi({ region: REGION });
    await assert.rejects(readAwsTrace(api, { selector: { type: 'request', id: `1-${Math.floor(now / 1000).toString(16)}-${hex(12)}` } }), (err: Error & { exitCode?: number }) => /X-Ray has no trace/.test(err.message) && err.exitCode === 3);
  });
});
