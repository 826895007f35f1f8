// The evidence bundle's builders (collect, fingerprint, HTML, JSON) on a crafted run, and its
// writer on a real temp folder. Pure functions and the file system: no component to run; the real
// stack and a real headless Chromium are in report-browser.test.ts.
import assert from 'node:assert/strict';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { parseVerifyOptions } from '../../src/cli/options.js';
import { collectEvidence, type EvidenceRun } from '../../src/evidence/collect.js';
import { embedPage, scopeCss } from '../../src/evidence/embed.js';
import { canonicalJson, configFingerprint } from '../../src/evidence/fingerprint.js';
import { renderEvidenceHtml } from '../../src/evidence/html.js';
import { findLegitTrace, flowOrderRequestId } from '../../src/evidence/legit-trace.js';
import { writeEvidence } from '../../src/evidence/write.js';
import { MeshgwError } from '../../src/errors.js';
import { runningIstioVersion } from '../../src/verify/aws/istio-running.js';
import type { TraceView } from '../../src/trace/types.js';
import { shopConfig } from '../verify-auth/fake-shop.js';

const HOSTILE = '"><script>alert(1)</script><img src=x onerror=alert(2)>';

const run: EvidenceRun = {
  ok: false,
  target: 'local',
  warnings: 0,
  failOn: 'fail',
  scenarios: [
    {
      scenario: 'throttle',
      target: 'local',
      ok: true,
      checks: [
        {
          id: 'throttle.over-limit',
          title: 'throttles 150 RPS',
          status: 'pass',
          detail: 'offered 6, 2xx 3, 429 3',
          durationMs: 10,
          data: { offered: 6, ok2xx: 3, throttled429: 3, predicted: 3, tolerance: 1, perSecond: [{ second: 0, ok: 2, throttled: 1 }, { second: 1, ok: 1, throttled: 2 }], limit: { rate: 2, burst: 1 } },
        },
      ],
    },
    {
      scenario: 'mtls',
      target: 'local',
      ok: false,
      checks: [
        { id: 'mtls.flow', title: 'carries the flow', status: 'pass', detail: 'ok', durationMs: 5, data: { steps: [{ step: 'POST /users', status: 201, ok: true, requestId: 'r-users' }, { step: 'POST /orders', status: 201, ok: true, requestId: 'r-order' }] } },
        { id: 'mtls.refuse.no-cert', title: 'refuses a client without a certificate', status: 'fail', detail: HOSTILE, hint: HOSTILE, durationMs: 3, data: { target: 'users', counter: 'ssl.fail_verify_no_cert', delta: 1, counterBefore: 4, counterAfter: 5 } },
        {
          id: 'mtls.matrix',
          title: 'admits exactly the callers',
          status: 'pass',
          detail: 'ok',
          durationMs: 9,
          data: {
            cells: [
              { caller: 'gateway', callee: 'users', expected: 'allow', observed: 'allow', evidence: 'the app answered 200', counted: true },
              { caller: 'gateway', callee: 'orders', expected: 'allow', observed: 'allow', evidence: 'the app answered 200', counted: true },
              { caller: HOSTILE, callee: 'users', expected: 'deny', observed: 'deny', evidence: '403 RBAC_DENIED', counted: true },
              { caller: HOSTILE, callee: 'orders', expected: 'deny', observed: 'allow', evidence: HOSTILE, counted: true },
            ],
          },
        },
      ],
    },
  ],
};

const trace: TraceView = {
  source: 'local-logs',
  requestId: 'r-order',
  traceId: '1-00000000-000000000000000000000000',
  method: 'POST',
  path: '/prod/orders',
  status: 201,
  startMs: 1000,
  durationMs: 50,
  spans: [
    { id: 'g', kind: 'gateway', name: 'gateway', workload: 'gateway', startMs: 1000, durationMs: 50, timing: 'measured' },
    { id: 'h', parentId: 'g', kind: 'hop', name: 'gateway → orders', workload: 'gateway', startMs: 1005, durationMs: 40, timing: 'measured' },
    { id: 'a', parentId: 'h', kind: 'app', name: 'orders', workload: 'orders', startMs: 1010, durationMs: 30, timing: 'measured' },
  ],
  notes: [],
};

const config = shopConfig({});
const inputs = { run, config, configFile: '/etc/meshgw.yaml', startedAt: new Date('2026-12-01T06:00:00Z'), endedAt: new Date('2026-12-01T06:05:00Z'), versions: { meshgw: '0.1.0', node: 'v20.19.0' } };

describe('the evidence bundle builders', () => {
  it('finds the flow order\'s request id and reads that trace, saying in place when the trace cannot be read', async () => {
    assert.equal(flowOrderRequestId(run), 'r-order');
    const asked: unknown[] = [];
    const found = await findLegitTrace(run, async (selector) => (asked.push(selector), trace));
    assert.deepEqual(asked, [{ type: 'request', id: 'r-order' }]);
    assert.equal(found.available, true);
    const gone = await findLegitTrace({ scenarios: [] }, async () => {
      throw new MeshgwError('STATE_MISSING', 'no local logs under /x', 'Start the stack');
    });
    assert.deepEqual(gone, { available: false, reason: 'no flow order was recorded in this run: the slowest recent POST /orders could not be traced: no local logs under /x (Start the stack)' });
  });

  it('collects the matrix, the counters before and after, and the throttle phases into JSON', async () => {
    const legitTrace = await findLegitTrace(run, async () => trace);
    const b = collectEvidence({ ...inputs, legitTrace });
    const json = JSON.parse(JSON.stringify(b)) as typeof b;
    assert.equal(json.schema, 'meshgw.evidence/v1');
    assert.deepEqual(json.versions, { meshgw: '0.1.0', node: 'v20.19.0', istio: { used: false, version: null, note: "not used: the local mesh is meshgw's own sidecars" } });
    assert.equal(json.startedAt, '2026-12-01T06:00:00.000Z');
    assert.ok(json.authzMatrix.available && json.authzMatrix.callers.length === 2 && json.authzMatrix.services.join() === 'users,orders');
    assert.ok(json.refusals.available);
    assert.deepEqual(json.refusals.rows.map((r) => [r.check, r.target, r.counter, r.before, r.after, r.delta]), [['mtls.refuse.no-cert', 'users', 'ssl.fail_verify_no_cert', 4, 5, 1]]);
    assert.ok(json.throttle.available && json.throttle.phases.map((p) => p.id).join() === 'throttle.over-limit');
    assert.equal(json.scenarios.length, 2);
    assert.match(json.config.value, /^[0-9a-f]{64}$/);
  });

  it('escapes a hostile detail, hint, caller and evidence everywhere in the page', async () => {
    const b = collectEvidence({ ...inputs, legitTrace: await findLegitTrace(run, async () => trace) });
    const html = renderEvidenceHtml(b, config);
    assert.doesNotMatch(html, /<script/i);
    assert.doesNotMatch(html, /<img/i);
    assert.match(html, /&quot;&gt;&lt;script&gt;alert\(1\)&lt;\/script&gt;&lt;img src=x onerror=alert\(2\)&gt;/);
    assert.match(html, /data-caller="&quot;&gt;&lt;script&gt;/);
    assert.match(html, /<td class="differs" data-expected="deny" data-observed="allow"/);
    assert.doesNotMatch(html, /(src|href)="https?:/, 'nothing loads from elsewhere');
    assert.match(html, /<svg[^>]*>.*<rect /s, 'the throttle chart is inline SVG');
    assert.match(html, /id="waterfall"/);
  });

  it('says in place which parts a run lacks', () => {
    const b = collectEvidence({ ...inputs, run: { ...run, scenarios: [] }, legitTrace: { available: false, reason: 'the local logs are gone' } });
    const html = renderEvidenceHtml(b, config);
    assert.match(html, /The authorization matrix: not available in this run: the mtls scenario did not run/);
    assert.match(html, /The throttle charts: not available in this run: the throttle scenario did not run/);
    assert.match(html, /The refusal counters: not available in this run: neither the mtls nor the resilience scenario ran/);
    assert.match(html, /The legit flow&#39;s trace: not available in this run: the local logs are gone/);
  });

  it("records Istio on aws as the cluster's istiod image says, else as configured", async () => {
    const awsRun = (data?: Record<string, unknown>): EvidenceRun => ({ ...run, target: 'aws', scenarios: [{ scenario: 'mtls', target: 'aws', ok: true, checks: [{ id: 'mtls.strict', title: 'strict', status: 'pass', detail: 'ok', durationMs: 1, ...(data ? { data } : {}) }] }] });
    const legitTrace = { available: false as const, reason: 'x' };
    assert.deepEqual(collectEvidence({ ...inputs, run: awsRun({ istioVersion: '1.31.1' }), legitTrace }).versions.istio, { used: true, version: '1.31.1', note: "istiod's image in the cluster" });
    assert.equal(collectEvidence({ ...inputs, run: awsRun({ istioVersion: null }), legitTrace }).versions.istio.version, config.aws.istioVersion);
    const deployment = { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'istiod', namespace: 'istio-system' }, spec: { template: { spec: { containers: [{ name: 'discovery', image: 'docker.io/istio/pilot:1.31.1-distroless' }] } } } };
    assert.equal(await runningIstioVersion({ read: async () => deployment }), '1.31.1-distroless');
    assert.equal(await runningIstioVersion({ read: async () => undefined }), null);
    assert.equal(await runningIstioVersion({ read: async () => { throw new Error('forbidden'); } }), null);
  });

  it('fingerprints the canonical config: key order does not matter, any value does', () => {
    assert.equal(canonicalJson({ b: 1, a: { d: [2, { z: 1, y: 2 }], c: undefined } }), '{"a":{"d":[2,{"y":2,"z":1}]},"b":1}');
    const same = configFingerprint(JSON.parse(JSON.stringify(config)) as typeof config, 'x');
    const reordered = Object.fromEntries(Object.entries(config).reverse()) as typeof config;
    assert.equal(configFingerprint(reordered, 'x').value, same.value);
    const changed = { ...config, gateway: { ...config.gateway, throttle: { ...config.gateway.throttle, rate: config.gateway.throttle.rate + 1 } } };
    assert.notEqual(configFingerprint(changed, 'x').value, same.value);
  });
});

describe('the --evidence option and the embedded pages', () => {
  it('resolves the folder, and refuses an empty one as a usage error', () => {
    assert.equal(parseVerifyOptions({ evidence: 'out/ev' }, 'all', config, (p) => `/abs/${p}`).evidence, '/abs/out/ev');
    assert.equal(parseVerifyOptions({}, 'mtls', config, (p) => p).evidence, undefined);
    assert.throws(() => parseVerifyOptions({ evidence: ' ' }, 'all', config, (p) => p), (err: unknown) => err instanceof MeshgwError && err.exitCode === 2 && /--evidence: expected a folder/.test(err.message));
  });

  it("scopes an embedded page's stylesheet to its section, so its body and table rules stay inside", () => {
    assert.equal(scopeCss('body { margin: 2rem }\ntable, th { color: red }', '#x'), '#x { margin: 2rem }\n#x table, #x th { color: red }\n');
    const page = embedPage('<html><head><style>h1{a:b}</style></head><body><h1>T</h1><p>x</p></body></html>', '#s');
    assert.deepEqual(page, { style: '#s h1 {a:b}\n', fragment: '<h3>T</h3><p>x</p>' });
    assert.equal(embedPage('no body here', '#s'), undefined);
  });
});

describe('writing the bundle', () => {
  const dirs: string[] = [];
  after(async () => {
    for (const d of dirs) await rm(d, { recursive: true, force: true });
  });

  it('creates the folder, replaces earlier files whole and leaves no temporary file', async () => {
    const root = await mkdtemp(path.join(tmpdir(), 'meshgw-evidence-'));
    dirs.push(root);
    const dir = path.join(root, 'a', 'b');
    await writeEvidence(dir, { html: 'first', json: '{"n":1}' });
    const out = await writeEvidence(dir, { html: 'second', json: '{"n":2}' });
    assert.equal(await readFile(out.html, 'utf8'), 'second');
    assert.equal(await readFile(out.json, 'utf8'), '{"n":2}');
    assert.deepEqual((await readdir(dir)).sort(), ['evidence.json', 'report.html']);
  });

  it('refuses a DIR that is an existing file with a usage error, writing nothing', async () => {
    const root = await mkdtemp(path.join(tmpdir(), 'meshgw-evidence-'));
    dirs.push(root);
    const file = path.join(root, 'taken');
    await writeFile(file, 'mine');
    for (const dir of [file, path.join(file, 'below')]) {
      await assert.rejects(writeEvidence(dir, { html: 'x', json: 'y' }), (err: unknown) => err instanceof MeshgwError && err.exitCode === 2 && /--evidence .*: expected a folder/.test(err.message));
    }
    assert.equal(await readFile(file, 'utf8'), 'mine');
    assert.deepEqual(await readdir(root), ['taken']);
  });
});
