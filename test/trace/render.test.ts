// The trace renderers and options on hand-built traces (pure functions: no component to run). The
// real stack and X-Ray paths are in local-trace.test.ts and xray-trace.test.ts.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { renderTraceHtml } from '../../src/trace/html.js';
import { parseTraceOptions } from '../../src/trace/options.js';
import { orderSpans, summarizeTrace } from '../../src/trace/span-tree.js';
import type { TraceSpan, TraceView } from '../../src/trace/types.js';
import { barCells, renderWaterfall } from '../../src/trace/waterfall.js';

const span = (id: string, parentId: string | undefined, kind: TraceSpan['kind'], name: string, startMs: number, durationMs: number, timing: TraceSpan['timing'] = 'measured'): TraceSpan => ({ id, ...(parentId ? { parentId } : {}), kind, name, workload: name.split(' ')[0], startMs, durationMs, timing });

function trace(path: string): TraceView {
  const spans = [span('g', undefined, 'gateway', 'gateway', 1000, 50), span('h', 'g', 'hop', 'gateway → orders', 1005, 40), span('s', 'h', 'sidecar', 'sidecars + network to orders (derived)', 1005, 10, 'derived'), span('a', 's', 'app', 'orders', 1010, 30)];
  return { source: 'local-logs', requestId: 'r-1', traceId: '1-00000000-000000000000000000000000', method: 'POST', path, status: 201, startMs: 1000, durationMs: 50, spans, notes: ['a <note>'] };
}

describe('trace rendering', () => {
  it('escapes every logged string in the HTML page (a client chooses the path)', () => {
    const page = renderTraceHtml(trace('/prod/orders?x=<script>alert("x")</script>'));
    assert.doesNotMatch(page, /<script>alert/);
    assert.match(page, /&lt;script&gt;alert\(&quot;x&quot;\)&lt;\/script&gt;/);
    assert.match(page, /<li>a &lt;note&gt;<\/li>/);
  });

  it('draws bars on one time axis: the root fills it, a child starts where it starts', () => {
    const t = trace('/prod/orders');
    assert.deepEqual(barCells(t.spans[0], t, 50), { offset: 0, length: 50 });
    assert.deepEqual(barCells(t.spans[1], t, 50), { offset: 5, length: 40 });
    const text = renderWaterfall(t);
    assert.match(text, /sidecars \+ network to orders \(derived\) \*/);
    assert.match(text, /\* derived, not measured/);
  });

  it('trims a child that overhangs its parent, and names an overhang beyond the clock slack', () => {
    const { spans, notes } = orderSpans([span('p', undefined, 'hop', 'p', 0, 10), span('c', 'p', 'app', 'c', 2, 20)]);
    assert.deepEqual(spans.map((s) => [s.name, s.startMs, s.durationMs]), [['p', 0, 10], ['c', 2, 8]]);
    assert.match(notes[0], /c reached 12 ms outside p/);
    assert.deepEqual(orderSpans([span('p', undefined, 'hop', 'p', 0, 10), span('c', 'p', 'app', 'c', 0, 11)]).notes, [], 'within the slack: trimmed silently');
  });

  it("sums the gateway's own time and each hop's mesh time", () => {
    const s = summarizeTrace(trace('/prod/orders'));
    assert.equal(s.gatewayOwnMs, 10);
    assert.deepEqual(s.hops, [{ hop: 'gateway → orders', callerMs: 40, calleeMs: 30, callee: 'app', meshMs: 10 }]);
  });
});

describe('trace options', () => {
  const resolve = (p: string) => `/abs/${p}`;
  it('defaults to the slowest recent POST /orders and resolves --html', () => {
    assert.deepEqual(parseTraceOptions({ html: 'out.html' }, undefined, resolve), { selector: { type: 'slowest', method: 'POST', resource: '/orders' }, html: '/abs/out.html' });
    assert.deepEqual(parseTraceOptions({ since: '30' }, '1-5f84c7a4-e3f9b9d6b57f7f8f6b5b0e0a', resolve).selector, { type: 'request', id: '1-5f84c7a4-e3f9b9d6b57f7f8f6b5b0e0a' });
  });
  it('rejects a malformed id, an empty --html and a bad --since, naming the flag', () => {
    assert.throws(() => parseTraceOptions({}, 'a b', resolve), /trace: "a b" is not a request id/);
    assert.throws(() => parseTraceOptions({ html: ' ' }, undefined, resolve), /--html: expected a file/);
    assert.throws(() => parseTraceOptions({ since: '0' }, undefined, resolve), /--since: expected a whole number of minutes from 1 to 1440, got "0"/);
  });
});
