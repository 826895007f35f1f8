import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { admittedPerSecond } from '../../bench/limiter.js';
import { nginxConfig } from '../../bench/nginx-config.js';
import { topSelfTime } from '../../bench/profile-top.js';
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

  it('summarizes latencies into p50, p99 and requests per second over the window', () => {
    const s = summarize([4, 1, 3, 2], 1, 2000);
    assert.deepEqual(s, { count: 4, errors: 1, p50Ms: 2, p99Ms: 4, rps: 2 });
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
});
