// The 429 lines of API Gateway's access log, read back with their responseType and key, against
// moto's CloudWatch Logs server (log group, stream and events real; moto matches every line for a JSON
// filter pattern, so the reader's own status check is exercised too). Lines are in the stage's
// access-log format (templates/meshgw-stack.yaml AccessLogSetting). Then the layer inference over them.
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { CloudWatchLogsClient, CreateLogGroupCommand, CreateLogStreamCommand, PutLogEventsCommand } from '@aws-sdk/client-cloudwatch-logs';
import { createAccessLogSource, parseThrottledLine } from '../../src/aws/access-log.js';
import { attributeAwsLines } from '../../src/verify/throttle/aws-attribution.js';
import type { ExpectedRefusals } from '../../src/verify/throttle/phase.js';
import { startMoto, type MotoServer } from '../aws/moto-server.js';
import type { Check } from '../../src/verify/checks.js';
import { accessLogCheck, tallyingChecks, type AwsThrottleContext, type ThrottleTally } from '../../src/verify/aws/access-log-check.js';
import { repoConfig } from '../k8s/fixtures.js';

const root = fileURLToPath(new URL('../../../', import.meta.url));
const GROUP = '/meshgw/access';
const T0 = Date.UTC(2026, 11, 1, 6, 0, 0);

/** A line as the stage's AccessLogSetting format writes it (every value a string, "-" when empty). */
function line(requestId: string, status: number, responseType: string, apiKeyId: string, atMs: number): string {
  return JSON.stringify({ requestId, traceId: '-', ip: '203.0.113.9', apiKeyId, httpMethod: 'POST', resourcePath: '/orders', path: '/prod/orders', status: String(status), responseLatency: '1', integrationLatency: '-', integrationStatus: '-', throttled: responseType, error: '-', requestTime: String(atMs) });
}

describe("API Gateway's access log: 429s by layer", () => {
  let moto: MotoServer;
  let logs: CloudWatchLogsClient;
  before(async () => {
    moto = await startMoto(root);
    logs = new CloudWatchLogsClient({ endpoint: moto.endpoint, region: 'us-east-1', credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' } });
  });
  after(async () => {
    logs?.destroy();
    await moto?.stop();
  });

  it('lists only the 429 lines of the window, with responseType, key and time', async () => {
    await logs.send(new CreateLogGroupCommand({ logGroupName: GROUP }));
    await logs.send(new CreateLogStreamCommand({ logGroupName: GROUP, logStreamName: 's1' }));
    const events = [
      line('r-ok', 200, '-', 'k-standard', T0),
      line('r-1', 429, 'THROTTLED', 'k-limited', T0 + 100),
      line('r-2', 429, 'QUOTA_EXCEEDED', 'k-capped', T0 + 1_200),
      line('r-late', 429, 'THROTTLED', 'k-limited', T0 + 120_000),
    ].map((message, i) => ({ message, timestamp: T0 + [0, 100, 1_200, 120_000][i] }));
    await logs.send(new PutLogEventsCommand({ logGroupName: GROUP, logStreamName: 's1', logEvents: events }));
    const lines = await createAccessLogSource(logs, GROUP).list429!(T0 - 1_000, T0 + 60_000);
    assert.deepEqual(lines, [
      { requestId: 'r-1', apiKeyId: 'k-limited', responseType: 'THROTTLED', requestTimeMs: T0 + 100 },
      { requestId: 'r-2', apiKeyId: 'k-capped', responseType: 'QUOTA_EXCEEDED', requestTimeMs: T0 + 1_200 },
    ]);
  });

  it("adds the 429s by layer to the access-log check, THROTTLED ones inferred from the throttle phases' model", async () => {
    const group = '/meshgw/access-check';
    await logs.send(new CreateLogGroupCommand({ logGroupName: group }));
    await logs.send(new CreateLogStreamCommand({ logGroupName: group, logStreamName: 's1' }));
    const sent = [line('t-1', 429, 'THROTTLED', 'k-limited', T0 + 10), line('t-2', 429, 'THROTTLED', 'k-limited', T0 + 20), line('q-1', 429, 'QUOTA_EXCEEDED', 'k-capped', T0 + 30)];
    await logs.send(new PutLogEventsCommand({ logGroupName: group, logStreamName: 's1', logEvents: sent.map((message, i) => ({ message, timestamp: T0 + 10 * (i + 1) })) }));
    // A phase as the throttle checks hand it on: its 429s and where the model expected them.
    const expectedLayers: ExpectedRefusals[] = [{ keyId: 'k-limited', epochSecond: Math.floor(T0 / 1000), layer: 'usagePlan', count: 2 }];
    const phase: Check<AwsThrottleContext> = { id: 'throttle.isolation', title: 'phase', run: async () => ({ ok: true, detail: '', data: { throttled429: 3, expectedLayers } }) };
    const tally: ThrottleTally = { client429: 0 };
    const ctx: AwsThrottleContext = { target: 'aws', config: repoConfig(), baseUrl: 'https://x.execute-api.us-east-1.amazonaws.com/prod', apiKeys: [], accessLog: createAccessLogSource(logs, group) };
    await tallyingChecks([phase], tally, () => T0)[0].run(ctx);
    assert.deepEqual(tally.expectedLayers, expectedLayers);
    const r = await accessLogCheck({ tally, deadlineMs: 0, pollMs: 0, now: () => T0, sleep: async () => undefined }).run(ctx);
    assert.equal(r.ok, true, r.detail);
    assert.match(r.detail, /429 by layer: usagePlan 2, quota 1 \(2 inferred from the model\)/);
    assert.deepEqual(r.data?.byLayer, { account: 0, method: 0, usagePlan: 2, quota: 1 });
    assert.equal(r.data?.inferred, true);
  });
});

describe('layers inferred from the model for THROTTLED lines', () => {
  const second = Math.floor(T0 / 1000);
  const expected: ExpectedRefusals[] = [
    { keyId: 'k-standard', epochSecond: second, layer: 'method', count: 5 },
    { keyId: 'k-standard', epochSecond: second, layer: 'usagePlan', count: 1 },
    { keyId: 'k-limited', epochSecond: second + 3, layer: 'usagePlan', count: 9 },
  ];
  const at = (id: string, key: string | null, type: string, ms: number) => ({ requestId: id, apiKeyId: key, responseType: type, requestTimeMs: ms });

  it("counts QUOTA_EXCEEDED as the quota from the log, and a THROTTLED line as the layer the model expected for its key in that second", () => {
    const a = attributeAwsLines(
      [
        at('a', 'k-standard', 'THROTTLED', T0 + 10),
        at('b', 'k-standard', 'THROTTLED', T0 + 1_500), // a second off: clock skew allowed
        at('c', 'k-limited', 'THROTTLED', T0 + 9_000), // no expectation that second: the key's usual layer
        at('d', 'k-capped', 'QUOTA_EXCEEDED', T0),
        at('e', null, 'THROTTLED', T0),
        at('f', 'k-unknown', 'THROTTLED', T0),
      ],
      expected,
    );
    assert.deepEqual(a.byLayer, { account: 0, method: 2, usagePlan: 1, quota: 1 });
    assert.equal(a.inferred, 3);
    assert.equal(a.unattributed, 2);
  });

  it('reads the log line format the stage writes, and skips other statuses and other text', () => {
    assert.deepEqual(parseThrottledLine(line('x', 429, 'THROTTLED', '-', 5)), { requestId: 'x', apiKeyId: null, responseType: 'THROTTLED', requestTimeMs: 5 });
    assert.equal(parseThrottledLine(line('x', 200, '-', 'k', 5)), undefined);
    assert.equal(parseThrottledLine('not json'), undefined);
  });
});
