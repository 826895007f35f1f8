// The replica choice alone (no sockets): which replica a try goes to when some are ejected or unready.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Pool } from 'undici';
import { Endpoint, pickEndpoint } from '../../src/dataplane/balancer.js';
import type { WarmConnector } from '../../src/dataplane/warm-connector.js';

function endpoint(origin: string): Endpoint {
  // The choice reads only counts and flags; the pool and connector are never touched here.
  return new Endpoint(origin, {} as Pool, {} as WarmConnector, `cluster.users.endpoint.${origin}.rq_total`);
}

describe('choosing a replica', () => {
  it('retries on the ejected replica rather than on the one that just failed when no replica is ready (panic mode)', () => {
    const a = endpoint('https://127.0.0.1:1');
    const b = endpoint('https://127.0.0.1:2');
    b.outlier.ejected = true;
    a.unreadyUntil = 1_000;
    for (const r of [0, 0.3, 0.6, 0.99]) assert.equal(pickEndpoint([a, b], 500, a, () => r), b);
  });

  it('prefers the replica with fewer requests in flight among ready ones', () => {
    const a = endpoint('https://127.0.0.1:1');
    const b = endpoint('https://127.0.0.1:2');
    a.active = 3;
    assert.equal(pickEndpoint([a, b], 0, undefined, () => 0.5), b);
  });

  it('sends to the only replica when it is all there is, ejected or not', () => {
    const a = endpoint('https://127.0.0.1:1');
    a.outlier.ejected = true;
    assert.equal(pickEndpoint([a], 0, a, () => 0), a);
  });
});
