import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ScenarioReport } from '../../src/verify/checks.js';
import { renderThrottleReportHtml } from '../../src/verify/throttle/report-html.js';
import { shopConfig } from '../verify-auth/fake-shop.js';

const report: ScenarioReport = {
  scenario: 'throttle',
  target: 'aws',
  ok: false,
  checks: [
    { id: 'throttle.session', title: 'registers', status: 'pass', detail: 'ok', durationMs: 1 },
    {
      id: 'throttle.over-limit',
      title: 'throttles <b>150</b> RPS',
      status: 'fail',
      detail: 'offered 6, 2xx 6',
      hint: 'check the "limits" & retry',
      durationMs: 10,
      data: {
        offered: 6,
        ok2xx: 6,
        throttled429: 0,
        other: 0,
        predicted: 3,
        tolerance: 2,
        perSecond: [
          { second: 0, ok: 3, throttled: 0, other: 0 },
          { second: 1, ok: 3, throttled: 1, other: 1 },
        ],
        limit: { rate: 2, burst: 1 },
      },
    },
  ],
};

describe('throttle HTML report', () => {
  const html = renderThrottleReportHtml(report, shopConfig({}));

  it('charts each phase with per-second data against its limit', () => {
    assert.equal((html.match(/<svg/g) ?? []).length, 1, 'the session check has no chart');
    assert.equal((html.match(/<rect/g) ?? []).length, 4, '2xx in both seconds, plus one 429 and one other');
    assert.match(html, /limit 2\/s/);
    assert.match(html, /✖ verify throttle: FAIL \(aws\)/);
  });

  it('draws one chart per key, its 429s split by the layer that refused them, and the counts by layer', () => {
    const layers = (usagePlan: number, method: number) => ({ account: 0, method, usagePlan, quota: 0 });
    const keyed: ScenarioReport = {
      ...report,
      checks: [
        {
          id: 'throttle.isolation',
          title: 'isolation',
          status: 'pass',
          detail: 'ok',
          durationMs: 1,
          data: {
            perSecond: [{ second: 0, ok: 2, throttled: 3, other: 0 }],
            byLayer: layers(3, 1),
            perSecondByKey: [
              { key: 'demo-limited', points: [{ second: 0, ok: 1, throttled: 3, other: 0, byLayer: layers(3, 0) }] },
              { key: 'demo-standard', points: [{ second: 0, ok: 1, throttled: 1, other: 0, byLayer: layers(0, 1) }] },
            ],
          },
        },
      ],
    };
    const page = renderThrottleReportHtml(keyed, shopConfig({}));
    assert.equal((page.match(/<svg/g) ?? []).length, 3, 'the phase, then each key');
    assert.match(page, /key demo-limited: per second, 429 by layer/);
    assert.match(page, /<title>second 0: 3 429 \(usagePlan\)<\/title>/);
    assert.match(page, /<title>second 0: 1 429 \(method\)<\/title>/);
    assert.match(page, /429 by layer \(access log\)<\/th><td>usagePlan 3, method 1, account 0, quota 0/);
  });

  it('escapes titles, details and hints', () => {
    assert.match(html, /throttles &#60;b&#62;150&#60;\/b&#62; RPS/);
    assert.match(html, /hint: check the &#34;limits&#34; &#38; retry/);
    assert.doesNotMatch(html, /<b>150/);
  });
});
