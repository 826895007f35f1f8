import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { admittedPerSecond } from '../../bench/limiter.js';
import { allFeaturesSpec } from '../../bench/gateway-overhead.js';
import { nginxConfig } from '../../bench/nginx-config.js';
import { expectedHandshakeMs, parseOpensslSpeed, parseSTimeConnections } from '../../bench/openssl-speed.js';
import { parseVmRssKiB } from '../../bench/proc-mem.js';
import { shareByOrigin, topSelfTime } from '../../bench/profile-top.js';
import { heavyModules } from '../../bench/startup.js';
import { median, percentile, ratio, summarize, times } from '../../bench/stats.js';

describe('benchmark statistics', () => {
  it('takes nearest-rank percentiles of sorted values', () => {
    const values = Array.from({ length: 100 }, (_, i) => i + 1);
    assert.equal(percentile(values, 50), 50);
    assert.equal(percentile(values, 99), 99);
    assert.equal(percentile(values, 100), 100);
    assert.equal(percentile([7], 99), 7);
    assert.ok(Number.isNaN(percentile([], 50)));
  });

  it('takes the median of unsorted values without reordering them', () => {
    const values = [30, 10, 20];
    assert.equal(median(values), 20);
    assert.deepEqual(values, [30, 10, 20]);
  });

  it('summarizes latencies into p50, p90, p99 and requests per second over the window', () => {
    const s = summarize([4, 1, 3, 2], 1, 2000);
    assert.deepEqual(s, { count: 4, errors: 1, p50Ms: 2, p90Ms: 4, p99Ms: 4, rps: 2 });
    const tenths = summarize(Array.from({ length: 10 }, (_, i) => 10 - i), 0, 1000);
    assert.equal(tenths.p90Ms, 9);
  });

  it('gives ratios against a baseline and refuses a zero baseline', () => {
    assert.equal(ratio(2.1, 1), 2.1);
    assert.equal(ratio(1, 3), 0.33);
    assert.ok(Number.isNaN(ratio(1, 0)));
    assert.equal(times(2.1), '2.10×');
    assert.equal(times(NaN), 'n/a');
  });
});

describe('benchmark set-up and checks', () => {
  it('writes an nginx config that proxies the stage path to a keep-alive upstream inside its own folder', () => {
    const conf = nginxConfig({ dir: '/tmp/b', listenPort: 4001, upstreamPort: 4002 });
    assert.match(conf, /listen 127\.0\.0\.1:4001;/);
    assert.match(conf, /server 127\.0\.0\.1:4002;\s+keepalive \d+;/);
    assert.match(conf, /proxy_http_version 1\.1;/);
    assert.match(conf, /proxy_set_header Connection "";/);
    assert.match(conf, /pid \/tmp\/b\/nginx\.pid;/);
    assert.doesNotMatch(conf, /\/var\/(log|run|lib)/, 'nothing outside the temp dir');
  });

  it('finds AWS SDK, Smithy and Kubernetes client modules among loaded module URLs and paths', () => {
    const found = heavyModules([
      'file:///app/node_modules/commander/index.js',
      'file:///app/node_modules/@aws-sdk/client-sts/dist-es/index.js',
      'MODULE 12: load "/app/node_modules/@smithy/core/dist-cjs/index.js"',
      'file:///app/node_modules/@aws-sdk/client-sts/dist-es/STS.js',
      'file:///app/node_modules/@kubernetes/client-node/dist/index.js',
    ]);
    assert.deepEqual(found, ['@aws-sdk/client-sts', '@kubernetes/client-node', '@smithy/core']);
    assert.deepEqual(heavyModules(['file:///app/dist/src/cli/main.js', 'file:///app/src/aws/sdk-notes.js']), []);
  });

  it('counts admitted requests per second for the gateway and the model side by side', () => {
    const rows = admittedPerSecond([
      { second: 1, admitted: true, model: false },
      { second: 0, admitted: true, model: true },
      { second: 0, admitted: false, model: true },
      { second: 1, admitted: false, model: false },
    ]);
    assert.deepEqual(rows, [
      { second: 0, admitted: 1, model: 2 },
      { second: 1, admitted: 1, model: 0 },
    ]);
  });

  it('ranks functions of a CPU profile by self time, merging samples of the same function', () => {
    const frame = (functionName: string, lineNumber: number) => ({ functionName, url: 'file:///w/dist/src/gateway/gateway.js', lineNumber });
    const top = topSelfTime(
      {
        nodes: [
          { id: 1, callFrame: frame('serve', 9) },
          { id: 2, callFrame: frame('forward', 99) },
          { id: 3, callFrame: frame('serve', 9) },
        ],
        samples: [1, 2, 3, 2],
        timeDeltas: [1000, 3000, 1000, 5000],
      },
      2,
    );
    assert.deepEqual(top, [
      { name: 'forward dist/src/gateway/gateway.js:100', selfMs: 8, share: 80 },
      { name: 'serve dist/src/gateway/gateway.js:10', selfMs: 2, share: 20 },
    ]);
  });

  it('splits a CPU profile by origin: idle, GC, native bindings, Node internals, undici and meshgw code', () => {
    const at = (functionName: string, url: string) => ({ functionName, url, lineNumber: 0 });
    const shares = shareByOrigin({
      nodes: [
        { id: 1, callFrame: at('(idle)', '') },
        { id: 2, callFrame: at('writev', '') },
        { id: 3, callFrame: at('emit', 'node:events') },
        { id: 4, callFrame: at('parseHeaders', 'file:///w/node_modules/undici/lib/core/util.js') },
        { id: 5, callFrame: at('serveRequest', 'file:///w/dist/src/gateway/gateway.js') },
        { id: 6, callFrame: at('(garbage collector)', '') },
      ],
      samples: [1, 2, 3, 4, 5, 6, 1, 1, 1, 1],
      timeDeltas: [10, 10, 10, 10, 10, 10, 10, 10, 10, 10],
    });
    assert.deepEqual(shares, { '(idle)': 50, '(garbage collector)': 10, '(program)': 0, 'native binding': 10, 'node internals': 10, undici: 10, meshgw: 10, other: 0 });
  });

  it('reads the P-256 sign, verify and ECDH rates from openssl speed and costs a mutual handshake from them', () => {
    const out = [
      '                              sign    verify    sign/s verify/s',
      ' 256 bits ecdsa (nistp256)   0.0000s   0.0001s  30058.6   9759.7',
      '                              op      op/s',
      ' 256 bits ecdh (nistp256)   0.0001s  12257.9',
    ].join('\n');
    const speed = parseOpensslSpeed(out);
    assert.deepEqual(speed, { signPerS: 30058.6, verifyPerS: 9759.7, ecdhPerS: 12257.9 });
    // 2 signs (sign + key generation) + 2 verifies + 1 ECDH: 0.0665 + 0.2049 + 0.0816 ms.
    assert.equal(expectedHandshakeMs(speed!), 0.353);
    assert.equal(parseOpensslSpeed('openssl: unknown algorithm'), undefined);
  });

  it('reads the handshake count from openssl s_time', () => {
    assert.equal(parseSTimeConnections('Collecting connection statistics for 3 seconds\n491 connections in 0.89s; 551.69 connections/user sec, bytes read 0\n491 connections in 6 real seconds, 0 bytes read per connection'), 491);
    assert.equal(parseSTimeConnections('connect: Connection refused'), undefined);
  });

  it('reads VmRSS from /proc/<pid>/status text', () => {
    assert.equal(parseVmRssKiB('Name:\tnode\nVmPeak:\t 1000 kB\nVmRSS:\t   65432 kB\nRssAnon:\t 1 kB\n'), 65432);
    assert.equal(parseVmRssKiB('Name:\tkthreadd\n'), undefined);
  });

  it('builds an all-features gateway spec whose route needs the bench key and whose limits are all evaluated but never bind', () => {
    const base = {
      stage: 'prod',
      throttle: { rate: 100, burst: 20 },
      methodThrottles: [{ method: 'POST', path: '/orders', rate: 100, burst: 20 }],
      usagePlans: [{ name: 'standard', throttle: { rate: 100, burst: 20 }, quota: { limit: 1000, period: 'DAY' }, apiKeys: ['demo-standard'] }],
      transform: { requestIdHeader: 'x-request-id', keyIdHeader: 'x-k', usagePlanHeader: 'x-p' },
      maxBodyBytes: 1024,
    } as unknown as Parameters<typeof allFeaturesSpec>[0];
    const { spec, apiKey } = allFeaturesSpec(base, 4002);
    assert.ok(spec.routes.every((r) => r.requireApiKey));
    assert.deepEqual(spec.apiKeys.map((k) => [k.value, k.plan]), [[apiKey, 'standard']]);
    assert.ok(spec.gateway.usagePlans[0].apiKeys.includes(spec.apiKeys[0].name));
    assert.ok(spec.gateway.throttle.rate >= 1e9);
    assert.ok(spec.gateway.methodThrottles.length >= 2 && spec.gateway.methodThrottles.every((m) => m.rate >= 1e9));
    assert.ok((spec.gateway.usagePlans[0].quota?.limit ?? 0) >= 1e12);
    assert.equal(spec.routes[0].upstream.origin, 'http://127.0.0.1:4002');
  });
});
