/** The sidecar spec's limits over Envoy-like defaults (pure function: no component involved). */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { MAX_CONNECTIONS, MAX_PENDING_REQUESTS, REQUEST_TIMEOUT_MS, STREAM_IDLE_TIMEOUT_MS, resolveLimits } from '../../src/mesh/limits.js';

describe('sidecar limits', () => {
  it('fills what the spec leaves out with the named defaults', () => {
    assert.deepEqual(resolveLimits(undefined), { streamIdleTimeoutMs: STREAM_IDLE_TIMEOUT_MS, requestTimeoutMs: REQUEST_TIMEOUT_MS, maxConnections: MAX_CONNECTIONS, maxPendingRequests: MAX_PENDING_REQUESTS });
    assert.equal(resolveLimits({ requestTimeoutMs: 500 }).requestTimeoutMs, 500);
    assert.equal(resolveLimits({ maxPendingRequests: 0 }).maxPendingRequests, 0, 'no queue at all is allowed');
  });

  it('names the field and the value it refuses', () => {
    assert.throws(() => resolveLimits({ streamIdleTimeoutMs: 0 }), /limits\.streamIdleTimeoutMs must be an integer >= 1, got 0/);
    assert.throws(() => resolveLimits({ maxConnections: 1.5 }), /limits\.maxConnections must be an integer >= 1, got 1\.5/);
    assert.throws(() => resolveLimits({ maxPendingRequests: -1 }), /limits\.maxPendingRequests must be an integer >= 0, got -1/);
  });
});
