/**
 * The Prometheus text parser. Real component: prom-client 15 (a real exposer of format 0.0.4), whose
 * registry output is parsed back and compared with the registry's own values; the other cases are
 * the format's documented edge cases (prometheus.io/docs/instrumenting/exposition_formats).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import { parsePrometheusText, PrometheusTextError } from '../../src/metrics/prom-text.js';

describe('parsePrometheusText', () => {
  it('reads samples and skips comments, HELP and TYPE lines and blank lines', () => {
    const text = [
      '# a free comment',
      '# HELP istio_requests_total Total requests.',
      '# TYPE istio_requests_total counter',
      'istio_requests_total{reporter="source",response_code="200"} 7',
      '',
      'up 1',
    ].join('\n');
    assert.deepEqual(parsePrometheusText(text), [
      { name: 'istio_requests_total', labels: { reporter: 'source', response_code: '200' }, value: 7 },
      { name: 'up', labels: {}, value: 1 },
    ]);
  });

  it('undoes the three label escapes \\\\, \\" and \\n and keeps other characters as they are', () => {
    const [s] = parsePrometheusText('m{path="C:\\\\dir",quote="say \\"hi\\"",nl="a\\nb",utf="é→{},="} 1\n');
    assert.deepEqual(s.labels, { path: 'C:\\dir', quote: 'say "hi"', nl: 'a\nb', utf: 'é→{},=' });
  });

  it('reads NaN, +Inf and -Inf values, exponents, and drops an optional timestamp', () => {
    const samples = parsePrometheusText('a NaN\nb +Inf\nc -Inf 1700000000000\nd 1.5e3\ne -0.25 -5\nf Inf\n');
    assert.ok(Number.isNaN(samples[0].value));
    assert.deepEqual(samples.slice(1).map((s) => s.value), [Infinity, -Infinity, 1500, -0.25, Infinity]);
  });

  it('gives a histogram as its _bucket, _sum and _count samples, le="+Inf" included', () => {
    const text = [
      '# TYPE d histogram',
      'd_bucket{le="0.5"} 1',
      'd_bucket{le="+Inf"} 3',
      'd_sum 4.5',
      'd_count 3',
    ].join('\n');
    assert.deepEqual(parsePrometheusText(text).map((s) => [s.name, s.labels.le, s.value]), [
      ['d_bucket', '0.5', 1],
      ['d_bucket', '+Inf', 3],
      ['d_sum', undefined, 4.5],
      ['d_count', undefined, 3],
    ]);
  });

  it('accepts an empty label set, a trailing comma, blanks around labels and \\r\\n line ends', () => {
    assert.deepEqual(parsePrometheusText('a{} 1\r\nb{ x = "1" , y="2", } 2\r\n').map((s) => s.labels), [{}, { x: '1', y: '2' }]);
  });

  const malformed: [string, string, RegExp][] = [
    ['a value', 'm{a="b"}', /line 2: expected a value after m/],
    ['a number', 'm abc', /line 2: "abc" is not a number/],
    ['a timestamp', 'm 1 1.5', /line 2: "1.5" is not a timestamp/],
    ['more than value and timestamp', 'm 1 2 3', /line 2: expected a value and at most a timestamp/],
    ['an escape', 'm{a="\\t"} 1', /line 2: unknown escape "\\t" in label a/],
    ['an end quote', 'm{a="b} 1', /line 2: unterminated value of label a/],
    ['a closing brace', 'm{a="b" 1', /line 2: expected "," or "}" after label a/],
    ['one label once', 'm{a="1",a="2"} 1', /line 2: label a appears twice/],
    ['a quoted label value', 'm{a=b} 1', /line 2: expected a quoted value for label a/],
    ['a metric name', '{a="b"} 1', /line 2: expected a metric name/],
    ['a known TYPE', '# TYPE m countr', /line 2: # TYPE needs one of counter/],
  ];
  for (const [what, line, message] of malformed) {
    it(`refuses a line without ${what}, naming the line number and its text`, () => {
      assert.throws(
        () => parsePrometheusText(`ok 1\n${line}\nok 2\n`),
        (err: unknown) => err instanceof PrometheusTextError && err.line === 2 && err.text === line && message.test(err.message) && err.message.includes(JSON.stringify(line)),
      );
    });
  }

  it("round-trips a real prom-client registry's output: counters with escaped labels, a gauge, a histogram", async () => {
    const registry = new Registry();
    const counter = new Counter({ name: 'istio_requests_total', help: 'requests "quoted" and \\ back', labelNames: ['reporter', 'path'], registers: [registry] });
    counter.inc({ reporter: 'source', path: 'a "b" \\c\nd' }, 3);
    counter.inc({ reporter: 'destination', path: '/x' }, 5);
    const gauge = new Gauge({ name: 'temperature', help: 'g', registers: [registry] });
    gauge.set(-1.25);
    const hist = new Histogram({ name: 'istio_request_duration_milliseconds', help: 'h', buckets: [1, 5, 10], labelNames: ['reporter'], registers: [registry] });
    for (const v of [0.5, 3, 3, 7, 20]) hist.observe({ reporter: 'source' }, v);

    const parsed = parsePrometheusText(await registry.metrics());
    const expected = (await registry.getMetricsAsJSON()).flatMap((m) =>
      (m.values as { value: number; labels: Record<string, string | number>; metricName?: string }[]).map((v) => ({
        name: v.metricName ?? m.name,
        labels: Object.fromEntries(Object.entries(v.labels).map(([k, x]) => [k, k === 'le' && x === '+Inf' ? '+Inf' : String(x)])),
        value: v.value,
      })),
    );
    const key = (s: { name: string; labels: Record<string, string> }) => `${s.name}${JSON.stringify(Object.entries(s.labels).sort())}`;
    assert.deepEqual(new Map(parsed.map((s) => [key(s), s.value])), new Map(expected.map((s) => [key(s), s.value])));
    // And the values a reader needs, spelled out: the escaped label came back whole, the buckets are cumulative.
    assert.equal(parsed.find((s) => s.labels.path === 'a "b" \\c\nd')?.value, 3);
    assert.deepEqual(parsed.filter((s) => s.name === 'istio_request_duration_milliseconds_bucket').map((s) => [s.labels.le, s.value]), [['1', 1], ['5', 3], ['10', 4], ['+Inf', 5]]);
  });
});
