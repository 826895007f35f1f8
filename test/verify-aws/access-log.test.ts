import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CloudWatchLogsClient, FilterLogEventsCommand } from '@aws-sdk/client-cloudwatch-logs';
import { mockClient } from 'aws-sdk-client-mock';
import { createAccessLogSource, statusFilterPattern, type AccessLogSource } from '../../src/aws/access-log.js';
import type { Check } from '../../src/verify/checks.js';
import { accessLogCheck, client429s, tallyingChecks, type AwsThrottleContext, type ThrottleTally } from '../../src/verify/aws/access-log-check.js';
import { repoConfig } from '../k8s/fixtures.js';

function context(source: AccessLogSource): AwsThrottleContext {
  return { target: 'aws', config: repoConfig(), baseUrl: 'https://x.execute-api.us-east-1.amazonaws.com/prod', apiKeys: [], accessLog: source };
}

/** A log group whose 429 count grows as delivery catches up, one read at a time. */
function laggingLog(counts: number[]): AccessLogSource & { reads: { start: number; end: number }[] } {
  const reads: { start: number; end: number }[] = [];
  return {
    reads,
    async countStatus(status, start, end) {
      assert.equal(status, 429);
      reads.push({ start, end });
      return counts[Math.min(reads.length - 1, counts.length - 1)];
    },
  };
}

function fakeClock() {
  let t = 1_000_000;
  return { now: () => t, sleep: async (ms: number) => void (t += ms) };
}

describe('the access-log 429 check', () => {
  it('filters the log group on status "429" over the window and follows every page', async () => {
    const logs = new CloudWatchLogsClient({ region: 'us-east-1', credentials: { accessKeyId: 'x', secretAccessKey: 'y' } });
    const mock = mockClient(logs);
    mock.on(FilterLogEventsCommand).resolvesOnce({ events: [{ message: '{}' }, { message: '{}' }], nextToken: 'p2' }).resolvesOnce({ events: [{ message: '{}' }] });
    const n = await createAccessLogSource(logs, '/meshgw/access').countStatus(429, 1000, 2000);
    assert.equal(n, 3);
    const calls = mock.commandCalls(FilterLogEventsCommand).map((c) => c.args[0].input);
    assert.deepEqual(calls[0], { logGroupName: '/meshgw/access', startTime: 1000, endTime: 2000, filterPattern: '{ $.status = "429" }', nextToken: undefined });
    assert.equal(calls[1].nextToken, 'p2');
    assert.equal(statusFilterPattern(429), '{ $.status = "429" }');
  });

  it('waits for late log delivery until the count settles at the client count', async () => {
    const clock = fakeClock();
    const tally: ThrottleTally = { startedAtMs: 500_000, endedAtMs: 900_000, client429: 400 };
    const log = laggingLog([120, 390, 401, 401]);
    const check = accessLogCheck({ tally, deadlineMs: 300_000, pollMs: 15_000, windowSlackMs: 60_000, ...clock });
    const r = await check.run(context(log));
    assert.equal(r.ok, true, r.detail);
    assert.equal(log.reads.length, 4);
    assert.deepEqual(log.reads[0], { start: 440_000, end: 960_000 });
    assert.match(r.detail, /access log 429 401, client 429 400 \(±8\)/);
  });

  it('fails when the log never shows the 429s the client saw', async () => {
    const clock = fakeClock();
    const tally: ThrottleTally = { startedAtMs: 0, endedAtMs: 10, client429: 300 };
    const r = await accessLogCheck({ tally, deadlineMs: 60_000, pollMs: 15_000, ...clock }).run(context(laggingLog([10, 20, 20, 20, 20, 20])));
    assert.equal(r.ok, false);
    assert.match(r.detail, /access log 429 20, client 429 300/);
    assert.match(r.hint ?? '', /lag/);
  });

  it('adds up the 429s the throttle checks report, including the served key of the isolation phase', async () => {
    assert.equal(client429s({ throttled429: 7 }), 7);
    assert.equal(client429s({ throttled429: 7, served: { throttled429: 2 } }), 9);
    assert.equal(client429s(undefined), 0);
    const tally: ThrottleTally = { client429: 0 };
    let t = 100;
    const checks: Check<number>[] = [
      { id: 'a', title: 'a', run: async () => ({ ok: true, detail: '', data: { throttled429: 30 } }) },
      { id: 'b', title: 'b', run: async () => ({ ok: false, detail: '', data: { throttled429: 5, served: { throttled429: 1 } } }) },
    ];
    for (const c of tallyingChecks(checks, tally, () => (t += 10))) await c.run(0);
    assert.deepEqual(tally, { client429: 36, startedAtMs: 110, endedAtMs: 130 });
  });
});
