// Where the mTLS alarm check sits in `verify mtls --target aws`, and what it does without CloudWatch access.
// Its conversation with CloudWatch (DescribeAlarms, ListMetrics, the OK → ALARM transition) is tested against
// moto in test/aws/alarms-moto.test.ts.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { configSchema } from '../../src/config/schema.js';
import { awsMtlsChecks } from '../../src/verify/aws/mtls-checks.js';
import type { AwsMtlsContext } from '../../src/verify/aws/mtls-context.js';

const config = configSchema.parse({ version: 1, target: 'aws', services: { users: { requireApiKey: false, pathPrefix: '/users' } } });

describe('the mTLS alarm check in verify mtls', () => {
  it('runs right after the mTLS refusals, while the alarm still holds them, with a timeout longer than its wait', () => {
    const ids = awsMtlsChecks().map((c) => c.id);
    const at = ids.indexOf('mtls.alarm');
    assert.equal(ids.filter((id) => id === 'mtls.alarm').length, 1);
    assert.ok(ids.indexOf('mtls.plaintext') < at && ids.indexOf('mtls.foreign-ca') === at - 1, ids.join(', '));
    const check = awsMtlsChecks()[at];
    assert.ok((check.timeoutMs ?? 0) > 5 * 60_000, 'the runner’s timeout leaves room for the 5-minute wait');
  });

  it('is reported as not run when the session reads no CloudWatch alarms', async () => {
    const check = awsMtlsChecks({ alarm: { deadlineMs: 0, pollMs: 0 } }).find((c) => c.id === 'mtls.alarm')!;
    const r = await check.run({ config } as AwsMtlsContext);
    assert.equal(r.notRun, true);
    assert.equal(r.ok, true);
    assert.match(r.detail, /meshgw-mesh-mtls-failures/);
  });
});
